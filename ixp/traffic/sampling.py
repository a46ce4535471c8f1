"""How far a sampled estimate can be trusted: the confidence interval of a matrix cell.

sFlow samples one frame in N at random, so the number of samples ``c`` that fall
into a class of traffic (one member pair, one port) out of ``n`` samples in all is
binomial. Following sflow.org's "Packet Sampling Basics" (Phaal and Panchen), the
estimate of the class's frames is ``N_c = c / n * N`` (N: all frames), its standard
error ``N * sqrt(p * (1 - p) / n)`` with ``p = c / n``, and relative to the estimate::

    relative error = z * sqrt((1 - p) / c)  <=  z * sqrt(1 / c)

with ``z`` = 1.96 for 95 % confidence. The bound needs only the class's own sample
count (its share ``p`` of one exchange's samples is tiny for any one pair), which
is why every cell keeps the number of samples behind it: 100 samples give +-19.6 %,
1,000 give +-6.2 %, 10,000 give +-2 %. Bytes are estimated as packets are (each
sample stands for ``rate`` frames of its length), and the same bound is used for
them: it ignores the spread of frame sizes inside a cell, which is small next to the
sampling error whenever the frames are of similar size (a pair's traffic mostly is).
"""

from __future__ import annotations

import math
from statistics import NormalDist

from ixp.errors import ValidationError


def z_score(confidence: float) -> float:
    """The two-sided normal quantile: 1.96 for 0.95, 2.58 for 0.99."""
    if not 0.0 < confidence < 1.0:
        raise ValidationError("confidence", confidence, "is not between 0 and 1")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def relative_error(samples: int, *, confidence: float = 0.95, share: float = 0.0) -> float:
    """The estimate's relative error bound, ``z * sqrt((1 - share) / samples)``.

    ``share`` is the class's fraction of all samples when it is known (0 gives the
    upper bound sflow.org uses). With no samples nothing is known: infinity.
    """
    if samples <= 0:
        return math.inf
    return z_score(confidence) * math.sqrt((1.0 - share) / samples)


def interval(
    estimate: float, samples: int, *, confidence: float = 0.95, share: float = 0.0
) -> tuple[float, float]:
    """(low, high) around an estimate made from ``samples`` samples (low never below 0)."""
    error = relative_error(samples, confidence=confidence, share=share)
    if math.isinf(error):
        return 0.0, math.inf
    return max(0.0, estimate * (1.0 - error)), estimate * (1.0 + error)


def samples_needed(max_relative_error: float, *, confidence: float = 0.95) -> int:
    """The fewest samples that keep the error within ``max_relative_error`` (0.1: +-10 %).

    A cell with fewer is marked as too thin to read; at 95 % confidence +-10 % needs
    385 samples, +-20 % needs 97.
    """
    if max_relative_error <= 0:
        raise ValidationError("max_relative_error", max_relative_error, "is not positive")
    return math.ceil((z_score(confidence) / max_relative_error) ** 2)
