"""Geometry for the server-rendered usage chart: requests per day as SVG bars.

Everything is computed here and the template only draws it, so the page needs no script
and no external library, and the numbers can be tested without parsing SVG.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

WIDTH = 720
HEIGHT = 260
LEFT = 48  # room for the y-axis labels
RIGHT = 12
TOP = 28  # room for the axis title above the highest label
BOTTOM = 40  # room for the day labels
Y_TICKS = 4


@dataclass(frozen=True)
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float

    @property
    def label(self) -> str:
        noun = "request" if self.count == 1 else "requests"
        return f"{self.day:%b} {self.day.day}: {self.count:,} {noun}"


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    top: int
    right: float  # x of the plot's right edge
    baseline: float  # y of the x axis
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    total: int
    peak: Bar | None  # the busiest day, None when there were no requests
    first_day: date
    last_day: date

    @property
    def summary(self) -> str:
        span = f"{self.first_day:%b} {self.first_day.day} to {self.last_day:%b} {self.last_day.day}"
        if self.peak is None:
            return f"No requests from {span} (days in UTC)."
        noun = "request" if self.total == 1 else "requests"
        return (
            f"{self.total:,} {noun} from {span} (days in UTC); "
            f"the busiest day was {self.peak.label}."
        )


def _step(peak: int) -> int:
    """The smallest 1-2-5 step such that Y_TICKS steps reach the peak."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * Y_TICKS >= peak:
                return step
        magnitude *= 10


def daily_bar_chart(counts: dict[date, int], last_day: date, days: int = 30) -> BarChart:
    first_day = last_day - timedelta(days=days - 1)
    series = [
        (first_day + timedelta(days=i), counts.get(first_day + timedelta(days=i), 0))
        for i in range(days)
    ]
    top_value = _step(max((c for _, c in series), default=0)) * Y_TICKS
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / days
    gap = max(1.0, slot * 0.2)
    bars: list[Bar] = []
    for index, (day, count) in enumerate(series):
        height = plot_height * count / top_value
        bars.append(
            Bar(
                day=day,
                count=count,
                x=round(LEFT + index * slot + gap / 2, 2),
                y=round(baseline - height, 2),
                width=round(slot - gap, 2),
                height=round(height, 2),
            )
        )
    step = top_value // Y_TICKS
    y_ticks = [
        Tick(position=round(baseline - plot_height * i / Y_TICKS, 2), label=f"{step * i:,}")
        for i in range(Y_TICKS + 1)
    ]
    # A label every week, counted back from today so the newest day is always labelled.
    x_ticks = [
        Tick(position=round(bar.x + bar.width / 2, 2), label=f"{bar.day:%b} {bar.day.day}")
        for index, bar in enumerate(bars)
        if (days - 1 - index) % 7 == 0
    ]
    total = sum(count for _, count in series)
    peak = max(bars, key=lambda b: (b.count, b.day)) if total else None
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        right=WIDTH - RIGHT,
        baseline=baseline,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        total=total,
        peak=peak,
        first_day=first_day,
        last_day=last_day,
    )
