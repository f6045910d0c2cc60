"""The windows asked of N11 for a data interval: padded, at most the overlap past now, at most 14 days, without
gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from include.clock import from_ms, to_ms
from include.orders.windows import MAX_WINDOW, Window, order_windows

START = datetime(2026, 9, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
HOURS_3 = timedelta(hours=3)


def test_an_hourly_interval_becomes_one_window_padded_by_the_overlap_on_both_sides():
    assert order_windows(START, START + timedelta(hours=1), HOURS_3, NOW) == [
        Window(START - HOURS_3, START + timedelta(hours=4))]


def test_a_month_is_cut_into_windows_of_at_most_14_days_that_meet_end_to_end():
    windows = order_windows(START, START + timedelta(days=30), HOURS_3, NOW)
    assert [w.end - w.start for w in windows] == [MAX_WINDOW, MAX_WINDOW, timedelta(days=2, hours=6)]
    assert windows[0].start == START - HOURS_3 and windows[-1].end == START + timedelta(days=30) + HOURS_3
    assert all(a.end == b.start for a, b in zip(windows, windows[1:], strict=False))


def test_windows_reach_past_now_by_the_overlap_at_most_so_a_three_hours_early_reading_still_sees_the_newest():
    now = START + timedelta(minutes=70)
    assert order_windows(START, START + timedelta(hours=1), HOURS_3, now) == [
        Window(START - HOURS_3, START + timedelta(hours=4))]
    assert order_windows(START, START + timedelta(hours=2), HOURS_3, now) == [
        Window(START - HOURS_3, now + HOURS_3)]


def test_an_interval_entirely_past_now_and_the_overlap_asks_for_nothing():
    assert order_windows(NOW + timedelta(hours=7), NOW + timedelta(hours=8), HOURS_3, NOW) == []


def test_airflow_istanbul_times_become_utc_and_epoch_milliseconds_are_exact():
    start = pendulum.datetime(2026, 9, 1, 3, tz="Europe/Istanbul")  # 00:00 UTC
    (window,) = order_windows(start, start.add(hours=1), timedelta(0), NOW)
    assert window == Window(START, START + timedelta(hours=1))
    assert window.start_ms == 1788220800000
    assert to_ms(START + timedelta(milliseconds=1)) == 1788220800001
    assert from_ms(1788220800001) == datetime(2026, 9, 1, 0, 0, 0, 1000)
    assert str(window) == "2026-09-01T03:00:00+03:00 to 2026-09-01T04:00:00+03:00"  # Istanbul time


def test_a_naive_interval_is_refused_rather_than_read_in_local_time():
    with pytest.raises(ValueError, match="time-zone aware"):
        order_windows(datetime(2026, 9, 1), datetime(2026, 9, 2), HOURS_3, NOW)
