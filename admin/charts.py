"""Charts as inline SVG drawn on the server: no JavaScript, nothing loaded from outside, prints as is.

This module computes the geometry; ``templates/_charts.html`` writes the SVG (so every label goes
through Jinja's escaping).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from admin import texts
from handlers.qualification import Bucket, DayLine, truncate

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 18, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the bar
    value: str  # above the bar
    title: str  # tooltip / accessible text
    css: str = "bar"
    label_x: float | None = None  # where the label stands (default: under the bar's middle)

    @property
    def label_at(self) -> float:
        return self.x + self.width / 2 if self.label_x is None else self.label_x


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass
class Chart:
    title: str
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT
    grid: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    line: list[Point] = field(default_factory=list)
    threshold: tuple[float, str] | None = None  # (x or y, label)
    threshold_vertical: bool = False
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)
    show_every: int = 1  # label every n-th bar

    @property
    def baseline(self) -> float:
        return self.height - BOTTOM

    @property
    def line_points(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.line)


HISTOGRAM_WIDTH = 470


def _y(share: Fraction, height: int = HEIGHT) -> float:
    plot = height - TOP - BOTTOM
    return float(height - BOTTOM - plot * min(max(share, Fraction(0)), Fraction(1)))


def _percent_grid(height: int = HEIGHT) -> list[tuple[float, str]]:
    return [(_y(Fraction(p, 100), height), f"{p}%") for p in (0, 25, 50, 75, 100)]


def attendance_chart(lines: list[DayLine], trainees: int, until: date | None = None) -> Chart:
    """Per class day: a bar for the share of the active roster that checked in (R06), a line for the
    share whose study time met R09 that day (drawn up to ``until``, today: later days have no data yet)."""
    n = max(len(lines), 1)
    slot = (WIDTH - LEFT - RIGHT) / n
    width = max(slot * 0.7, 1.0)
    bars, points = [], []
    for i, line in enumerate(lines):
        share = Fraction(line.tally.checked_in, trainees) if trainees else Fraction(0)
        ok = Fraction(line.tally.day_ok, trainees) if trainees else Fraction(0)
        x = LEFT + i * slot + (slot - width) / 2
        y = _y(share)
        day = f"{line.day:%m-%d}"
        bars.append(Bar(x, y, width, HEIGHT - BOTTOM - y, day, f"{line.tally.checked_in}",
                        texts.CHART_DAY_BAR.format(day=day, checked_in=line.tally.checked_in, trainees=trainees,
                                                   percent=truncate(share * 100, 1), day_ok=line.tally.day_ok)))
        if until is None or line.day <= until:
            points.append(Point(x + width / 2, _y(ok), texts.CHART_DAY_POINT.format(day=day, day_ok=line.tally.day_ok,
                                                                                     trainees=trainees)))
    return Chart(
        title=texts.CHART_DAYS_TITLE,
        bars=bars,
        grid=_percent_grid(),
        line=points,
        legend=[("bar", texts.CHART_DAYS_LEGEND[0]), ("line", texts.CHART_DAYS_LEGEND[1])],
        show_every=1 if n <= 16 else (n + 15) // 16,
    )


def histogram_chart(buckets: list[Bucket], min_ratio: Fraction) -> Chart:
    """Active trainees by cumulative ratio of online time (R16); bars at or above the threshold differ."""
    n = max(len(buckets), 1)
    slot = (HISTOGRAM_WIDTH - LEFT - RIGHT) / n
    width = slot * 0.8
    top = max([b.count for b in buckets] + [1])
    bars = []
    for i, bucket in enumerate(buckets):
        share = Fraction(bucket.count, top)
        x = LEFT + i * slot + (slot - width) / 2
        y = _y(share)
        short = f"{int(bucket.low * 100)}%" if i % 2 == 0 or i == n - 1 else ""  # a tick at the bucket's lower bound
        bars.append(Bar(x, y, width, HEIGHT - BOTTOM - y, short, str(bucket.count),
                        texts.CHART_BUCKET.format(label=bucket.label, count=bucket.count),
                        "bar bar-ok" if bucket.meets else "bar",
                        label_x=LEFT + i * slot))
    grid = []
    for k in range(5):
        value = Fraction(top * k, 4)
        if value.denominator == 1 or k in (0, 4):
            grid.append((_y(Fraction(k, 4)), str(int(value))))
    threshold_x = LEFT + float(min_ratio) * (n - 1) * slot  # the first n-1 buckets span 0–100%
    return Chart(
        title=texts.CHART_HISTOGRAM_TITLE,
        bars=bars,
        width=HISTOGRAM_WIDTH,
        grid=grid,
        threshold=(threshold_x, texts.CHART_THRESHOLD.format(percent=truncate(min_ratio * 100, 1))),
        threshold_vertical=True,
        legend=[("bar", texts.CHART_HISTOGRAM_LEGEND[0]), ("bar bar-ok", texts.CHART_HISTOGRAM_LEGEND[1])],
    )
