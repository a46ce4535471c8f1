"""Draw the route server's convergence cost against routes, from ``bird_convergence.py --record``.

Reads the JSON lines that ``bench/bird_convergence.py --record FILE`` appends
(one per run), takes per variant, live members and size the median CPU on
routes and the median peak memory, and writes one SVG with two panels (CPU,
memory) of a line per variant and member count, each run shown as a dot so the
spread stays visible. Prints the medians and per variant a straight-line fit:
CPU against route exports (routes times live sessions, what a route server's
CPU follows: each route goes to every other session) and memory against routes,
extrapolated to ``--routes`` paths over ``--sessions`` sessions (1,000,000 and
1,900 by default: a 1,000-member exchange's route server).

Run: ``.venv/bin/python bench/convergence_curve.py runs.jsonl --out docs/convergence.svg``.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from statistics import median
from typing import TypeVar

WIDTH, HEIGHT = 760, 350
PANEL_WIDTH, PANEL_HEIGHT = 300, 220
MARGIN_LEFT, MARGIN_TOP = 70, 62
COLOURS = ("#1f6fb2", "#3a9a3a", "#d9541e", "#8a4fb0", "#9a7a1a")
DASHES = ("", "6,4", "2,3")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Run:
    """One run as ``--record`` wrote it, the fields drawn."""

    variant: str
    members: int
    sessions: int
    routes: int
    route_cpu: float
    memory_mb: float
    flaps: int

    @property
    def series(self) -> str:
        """The line this run belongs to."""
        return f"{self.variant}, {self.members} members"


def read_runs(paths: Sequence[Path]) -> list[Run]:
    """Every settled run in the files (a run that hit its timeout has no final figure)."""
    runs = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            if not item.get("settled", True):
                continue
            runs.append(
                Run(
                    item["variant"],
                    int(item["members"]),
                    int(item["established"]),
                    int(item["offered"]),
                    float(item["route_cpu"]),
                    float(item["max_rss_mb"]),
                    int(item.get("flaps", 0)),
                )
            )
    return runs


def grouped(runs: Sequence[Run], key: Callable[[Run], K]) -> dict[K, list[Run]]:
    """``runs`` by ``key``, in the order each key first appears."""
    groups: defaultdict[K, list[Run]] = defaultdict(list)
    for run in runs:
        groups[key(run)].append(run)
    return groups


def fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope and intercept (points all at one x: through the origin)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return (mean_y / mean_x if mean_x else 0.0), 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return slope, mean_y - slope * mean_x


def _nice_top(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    step = 10 ** max(0, len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def _panel(
    left: float,
    title: str,
    unit: str,
    series: dict[str, list[Run]],
    style: dict[str, tuple[str, str]],
    value: str,
    top_routes: int,
) -> list[str]:
    """One panel's SVG elements: axes, ticks, each run as a dot, the medians joined."""
    top = _nice_top(max(getattr(r, value) for runs in series.values() for r in runs) * 1.05)
    right_routes = _nice_top(top_routes * 1.02)

    def x(routes: float) -> float:
        return left + routes / right_routes * PANEL_WIDTH

    def y(amount: float) -> float:
        return MARGIN_TOP + PANEL_HEIGHT - amount / top * PANEL_HEIGHT

    bottom = MARGIN_TOP + PANEL_HEIGHT
    parts = [
        f'<text x="{left + PANEL_WIDTH / 2}" y="{MARGIN_TOP - 18}" text-anchor="middle" '
        f'font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{bottom}" x2="{left + PANEL_WIDTH}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="{MARGIN_TOP}" x2="{left}" y2="{bottom}" stroke="#333"/>',
        f'<text x="{left + PANEL_WIDTH / 2}" y="{bottom + 36}" text-anchor="middle">routes</text>',
        f'<text x="{left - 52}" y="{MARGIN_TOP + PANEL_HEIGHT / 2}" text-anchor="middle" '
        f'transform="rotate(-90 {left - 52} {MARGIN_TOP + PANEL_HEIGHT / 2})">'
        f"{escape(unit)}</text>",
    ]
    for tick in range(5):
        routes = right_routes * tick / 4
        amount = top * tick / 4
        parts.append(
            f'<text x="{x(routes)}" y="{bottom + 16}" text-anchor="middle" font-size="11">'
            f"{routes / 1000:,.0f}k</text>"
        )
        parts.append(
            f'<text x="{left - 6}" y="{y(amount) + 4}" text-anchor="end" font-size="11">'
            f"{amount:,.0f}</text>"
        )
        parts.append(
            f'<line x1="{left}" y1="{y(amount)}" x2="{left + PANEL_WIDTH}" y2="{y(amount)}" '
            'stroke="#ddd"/>'
        )
    for name, runs in series.items():
        colour, dash = style[name]
        by_size: defaultdict[int, list[float]] = defaultdict(list)
        for run in runs:
            by_size[run.routes].append(getattr(run, value))
            parts.append(
                f'<circle cx="{x(run.routes):.1f}" cy="{y(getattr(run, value)):.1f}" r="2.5" '
                f'fill="{colour}" fill-opacity="0.45"/>'
            )
        line = " ".join(
            f"{x(size):.1f},{y(median(values)):.1f}" for size, values in sorted(by_size.items())
        )
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="{dash}"/>'
        )
        parts += [
            f'<circle cx="{x(size):.1f}" cy="{y(median(values)):.1f}" r="4" fill="white" '
            f'stroke="{colour}" stroke-width="2"/>'
            for size, values in sorted(by_size.items())
        ]
    return parts


def svg(runs: Sequence[Run], title: str) -> str:
    """The two panels, a legend, and the title, as one SVG document."""
    series = grouped(runs, lambda r: r.series)
    top_routes = max(r.routes for r in runs)
    variants = list(dict.fromkeys(r.variant for r in runs))
    sizes = sorted({r.members for r in runs})
    style = {
        run.series: (COLOURS[variants.index(run.variant)], DASHES[sizes.index(run.members)])
        for run in runs
    }
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>',
    ]
    parts += _panel(
        MARGIN_LEFT, "CPU on routes", "CPU seconds", series, style, "route_cpu", top_routes
    )
    parts += _panel(
        MARGIN_LEFT + PANEL_WIDTH + 80, "Peak memory", "MB", series, style, "memory_mb", top_routes
    )
    for index, name in enumerate(series):
        colour, dash = style[name]
        legend_x = 20 + index * 185
        parts.append(
            f'<line x1="{legend_x}" y1="{HEIGHT - 14}" x2="{legend_x + 22}" y2="{HEIGHT - 14}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
            f'<text x="{legend_x + 28}" y="{HEIGHT - 10}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def report(runs: Sequence[Run], routes: int, sessions: int) -> list[str]:
    """Per line and size: medians, spread and flaps; then each variant's fit, extrapolated."""
    lines = []
    cpu_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    memory_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for name, its in grouped(runs, lambda r: r.series).items():
        sizes = grouped(its, lambda r: r.routes)
        for size, at in sorted(sizes.items()):
            cpu = median(r.route_cpu for r in at)
            memory = median(r.memory_mb for r in at)
            exports = size * median(r.sessions for r in at)
            cpu_points[at[0].variant].append((exports, cpu))
            memory_points[at[0].variant].append((size, memory))
            lines.append(
                f"{name:<24} {size:>9,} routes: {len(at)} runs, CPU on routes median "
                f"{cpu:.2f} s ({min(r.route_cpu for r in at):.2f}-"
                f"{max(r.route_cpu for r in at):.2f}), {cpu / exports * 1e9:.0f} ns per route "
                f"export, peak memory median {memory:.0f} MB, flaps {sum(r.flaps for r in at)}"
            )
    for variant in grouped(runs, lambda r: r.variant):
        cpu_slope, cpu_base = fit(cpu_points[variant])
        memory_slope, memory_base = fit(memory_points[variant])
        lines.append(
            f"{variant:<12} fit: {cpu_slope * 1e9:.0f} ns of CPU per route export, "
            f"{memory_slope * 1e3:.2f} kB per route; {routes:,} routes over {sessions:,} "
            f"sessions: about {cpu_base + cpu_slope * routes * sessions:,.0f} CPU-s and "
            f"{memory_base + memory_slope * routes:,.0f} MB"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("records", nargs="+", type=Path, help="files of --record lines")
    parser.add_argument("--out", type=Path, required=True, help="the SVG to write")
    parser.add_argument("--variants", default="generated,bare", help="comma-separated")
    parser.add_argument("--title", default="Route server rs1: convergence against routes")
    parser.add_argument("--routes", type=int, default=1_000_000, help="extrapolate to these")
    parser.add_argument("--sessions", type=int, default=1_900, help="... over these sessions")
    args = parser.parse_args()
    wanted = [v.strip() for v in args.variants.split(",") if v.strip()]
    runs = [r for r in read_runs(args.records) if r.variant in wanted]
    if not runs:
        raise SystemExit(f"no settled run of {', '.join(wanted)} in the records")
    runs.sort(key=lambda r: wanted.index(r.variant))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(svg(runs, args.title), encoding="utf-8")
    print("\n".join(report(runs, args.routes, args.sessions)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
