"""The usage chart's geometry, computed without a browser."""

from __future__ import annotations

from datetime import date, timedelta

from powerpost.dashboard.charts import daily_bar_chart

TODAY = date(2026, 11, 27)


def test_thirty_bars_ending_today_with_heights_in_proportion() -> None:
    counts = {TODAY: 40, TODAY - timedelta(days=1): 10, TODAY - timedelta(days=40): 999}
    chart = daily_bar_chart(counts, TODAY)
    assert len(chart.bars) == 30
    assert chart.bars[0].day == TODAY - timedelta(days=29)
    assert chart.bars[-1].day == TODAY
    assert chart.total == 50  # the day outside the window is left out
    assert chart.bars[-1].height == 4 * chart.bars[-2].height
    assert chart.peak is not None
    assert chart.peak.day == TODAY
    assert all(b.height == 0 for b in chart.bars[:-2])
    xs = [b.x for b in chart.bars]
    assert xs == sorted(xs)
    assert chart.bars[-1].x + chart.bars[-1].width <= chart.right


def test_axis_labels_are_round_numbers_reaching_the_peak() -> None:
    chart = daily_bar_chart({TODAY: 37}, TODAY)
    assert [t.label for t in chart.y_ticks] == ["0", "10", "20", "30", "40"]
    assert chart.y_ticks[0].position == chart.baseline
    assert chart.bars[-1].y >= chart.y_ticks[-1].position
    big = daily_bar_chart({TODAY: 12_345}, TODAY)
    assert big.y_ticks[-1].label == "20,000"
    # The newest day is always labelled on the x axis, then one label a week.
    assert chart.x_ticks[-1].label == "Nov 27"
    assert [t.label for t in chart.x_ticks] == ["Oct 30", "Nov 6", "Nov 13", "Nov 20", "Nov 27"]


def test_an_empty_month_says_so() -> None:
    chart = daily_bar_chart({}, TODAY)
    assert chart.total == 0
    assert chart.peak is None
    assert chart.summary == "No requests from Oct 29 to Nov 27 (days in UTC)."
    assert [t.label for t in chart.y_ticks] == ["0", "1", "2", "3", "4"]


def test_summary_reads_as_a_sentence() -> None:
    chart = daily_bar_chart({TODAY - timedelta(days=3): 1, TODAY: 2}, TODAY)
    assert chart.summary == (
        "3 requests from Oct 29 to Nov 27 (days in UTC); the busiest day was Nov 27: 2 requests."
    )
    assert chart.bars[-4].label == "Nov 24: 1 request"
