"""The confidence interval every matrix cell carries, against sflow.org's worked example and
against simulated sampling."""

from __future__ import annotations

import math
import random

import pytest

from ixp.errors import ValidationError
from ixp.traffic import sampling


def test_the_worked_example_of_packet_sampling_basics() -> None:
    """1,000,000 frames, 2,500 samples, 1,000 of them voice: 381,000 to 419,000 at 95 %."""
    low, high = sampling.interval(400_000, 1000, share=1000 / 2500)
    assert (round(low, -3), round(high, -3)) == (381_000, 419_000)


def test_the_bound_without_the_share_and_the_samples_it_needs() -> None:
    assert sampling.relative_error(100) == pytest.approx(0.196, abs=1e-3)
    assert sampling.relative_error(10_000) == pytest.approx(0.0196, abs=1e-4)
    assert sampling.relative_error(1000, confidence=0.99) == pytest.approx(0.0815, abs=1e-4)
    assert sampling.samples_needed(0.1) == 385
    assert sampling.samples_needed(0.2) == 97
    assert sampling.relative_error(0) == math.inf
    assert sampling.interval(5.0, 0) == (0.0, math.inf)
    with pytest.raises(ValidationError):
        sampling.z_score(1.0)
    with pytest.raises(ValidationError):
        sampling.samples_needed(0)


def _poisson(rng: random.Random, mean: float) -> int:
    """Samples of a class: each of its frames is sampled with a small probability."""
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def test_the_interval_holds_the_truth_as_often_as_it_says() -> None:
    """2,000 simulated 5-minute cells of 40,000 frames sampled 1 in 1,000 (about 40 samples)."""
    rng = random.Random(12)
    frames, rate, trials = 40_000, 1000, 2000
    covered = 0
    for _ in range(trials):
        samples = _poisson(rng, frames / rate)
        low, high = sampling.interval(samples * rate, samples)
        covered += low <= frames <= high
    assert 0.93 <= covered / trials <= 0.97
