"""APScheduler triggers per mode: interval, and the fixed window's cron pieces ([start, end), DST-correct)."""

from __future__ import annotations

import itertools
import pickle
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from freezegun import freeze_time

from bot.hours.gate import FixedWindow
from bot.hours.triggers import MAX_PIECES, WindowTrigger, build_trigger, describe_trigger, window_pieces
from tests.hours.support import NY, ny, nyse_window, utc

MONDAY = (2026, 3, 2)


def fixed(window: FixedWindow | None = None, interval: float = 60, **kw):
    return build_trigger("fixed", interval_seconds=interval, window=window or nyse_window(), **kw)


def fire_times(trigger, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in [start, end), walked the way the scheduler walks it; strictly increasing.

    Compared in UTC: Python compares two datetimes of one zone by wall time, ignoring `fold`.
    """
    times: list[datetime] = []
    end = end.astimezone(UTC)
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment.astimezone(UTC) < end:
        if times:
            assert moment.astimezone(UTC) > times[-1].astimezone(UTC), f"{moment} after {times[-1]}"
        times.append(moment)
        moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
    return times


class TestMondayInNewYork:
    @pytest.mark.parametrize(
        ("now", "expected"),
        [
            ((9, 29, 0), (9, 30)),
            ((9, 29, 30), (9, 30)),
            ((9, 30, 0), (9, 30)),
            ((9, 30, 1), (9, 31)),
            ((9, 59, 30), (10, 0)),
            ((10, 0, 0), (10, 0)),
            ((15, 58, 30), (15, 59)),
            ((15, 59, 0), (15, 59)),
        ],
    )
    def test_next_fire_same_day(self, now, expected):
        fire = fixed().get_next_fire_time(None, ny(*MONDAY, *now))
        assert fire == ny(*MONDAY, *expected)

    @pytest.mark.parametrize("now", [(15, 59, 1), (16, 0, 0), (16, 0, 1), (23, 59, 59)])
    def test_end_minute_does_not_fire(self, now):
        # [start, end): 16:00 is not a fire time; the next one is Tuesday 09:30
        assert fixed().get_next_fire_time(None, ny(*MONDAY, *now)) == ny(2026, 3, 3, 9, 30)

    def test_every_minute_of_the_window_fires_once(self):
        times = fire_times(fixed(), ny(*MONDAY, 0, 0), ny(2026, 3, 3, 0, 0))
        assert len(times) == 390
        assert times[0] == ny(*MONDAY, 9, 30)
        assert times[-1] == ny(*MONDAY, 15, 59)
        assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(times))

    def test_fire_times_and_gate_agree(self):
        window = nyse_window(calendar="none")
        fires = set(fire_times(fixed(window), ny(*MONDAY), ny(2026, 3, 9)))
        minute = ny(*MONDAY)
        while minute < ny(2026, 3, 9):
            assert (minute in fires) == window.is_open(minute)[0], minute
            minute += timedelta(minutes=1)

    def test_the_pieces(self):
        assert window_pieces(nyse_window(), 60) == [
            {"day_of_week": "mon-fri", "hour": "9", "minute": "30-59", "second": "0"},
            {"day_of_week": "mon-fri", "hour": "10-15", "minute": "*", "second": "0"},
        ]
        trigger = fixed()
        assert isinstance(trigger, OrTrigger)
        assert all(isinstance(piece, CronTrigger) for piece in trigger.triggers)
        assert all(piece.timezone == NY for piece in trigger.triggers)


class TestDst:
    def test_march_change_keeps_0930_local(self):
        # From Friday's close over the DST Sunday 2026-03-08 to Monday's open
        fire = fixed().get_next_fire_time(None, ny(2026, 3, 6, 16, 0))
        assert fire == ny(2026, 3, 9, 9, 30)
        assert fire.astimezone(NY).utcoffset() == timedelta(hours=-4)
        assert fire == utc(2026, 3, 9, 13, 30)
        friday = fixed().get_next_fire_time(None, ny(2026, 3, 6, 9, 0))
        assert friday == utc(2026, 3, 6, 14, 30)
        assert friday.astimezone(NY).utcoffset() == timedelta(hours=-5)

    def test_november_change_keeps_0930_local(self):
        fire = fixed().get_next_fire_time(None, ny(2026, 10, 30, 16, 0))
        assert fire == ny(2026, 11, 2, 9, 30)
        assert fire.astimezone(NY).utcoffset() == timedelta(hours=-5)
        assert fire == utc(2026, 11, 2, 14, 30)
        friday = fixed().get_next_fire_time(None, ny(2026, 10, 30, 9, 0))
        assert friday == utc(2026, 10, 30, 13, 30)

    @pytest.mark.parametrize("first", [(2026, 3, 9), (2026, 11, 2)])
    def test_full_day_after_change(self, first):
        times = fire_times(fixed(), ny(*first), ny(*first) + timedelta(days=1))
        assert len(times) == 390
        assert times[0] == ny(*first, 9, 30) and times[-1] == ny(*first, 15, 59)

    def test_nothing_fires_on_the_dst_sundays(self):
        for sunday in ((2026, 3, 8), (2026, 11, 1)):
            nxt = fixed().get_next_fire_time(None, ny(*sunday, 0, 0))
            assert nxt.astimezone(NY).date() == (ny(*sunday) + timedelta(days=1)).date()

    def test_fire_times_are_utc(self):
        assert fixed().get_next_fire_time(None, ny(*MONDAY, 9)).tzinfo == UTC

    @pytest.mark.parametrize(
        ("start", "end", "interval"),
        [("00:00", "23:59", 60), ("01:00", "03:30", 30), ("01:00", "03:30", 900), ("22:00", "04:00", 60)],
    )
    @pytest.mark.parametrize("sunday", [(2026, 3, 8), (2026, 11, 1)])
    def test_windows_over_the_change_hour(self, start, end, interval, sunday):
        """Night windows on a DST Sunday: no step backwards (APScheduler #1021), exactly the wall-clock grid.

        In the fall-back night the repeated hour fires twice (both passes are inside the wall-clock window);
        in the spring-forward night the skipped hour does not exist.
        """
        window = nyse_window(calendar="none", start=start, end=end, days="daily")
        lo, hi = ny(*sunday) - timedelta(hours=3), ny(*sunday) + timedelta(hours=21)
        got = [t.astimezone(UTC) for t in fire_times(fixed(window, interval), lo, hi)]
        expected = []
        moment = lo.astimezone(UTC)
        opens = window.start.hour * 3600 + window.start.minute * 60
        while moment < hi:
            local = moment.astimezone(NY)
            since_open = (local.hour * 3600 + local.minute * 60 + local.second - opens) % 86_400
            if window.is_open(moment)[0] and since_open % interval == 0:
                expected.append(moment)
            moment += timedelta(seconds=min(interval, 60))
        assert got == expected


class TestWindows:
    def test_weekend_goes_to_monday(self):
        assert fixed().get_next_fire_time(None, ny(2026, 3, 7, 10)) == ny(2026, 3, 9, 9, 30)

    def test_holidays_are_left_to_the_gate(self):
        # cron knows no calendar: it fires on Thanksgiving, the gate skips it
        assert fixed().get_next_fire_time(None, ny(2026, 11, 26, 9)) == ny(2026, 11, 26, 9, 30)

    @pytest.mark.parametrize(
        ("start", "end", "interval", "pieces"),
        [
            ("10:00", "10:45", 60, [{"hour": "10", "minute": "0-44"}]),
            ("10:15", "10:45", 300, [{"hour": "10", "minute": "15-40/5"}]),
            ("09:00", "16:00", 60, [{"hour": "9-15", "minute": "*"}]),
            (
                "09:30",
                "16:45",
                60,
                [
                    {"hour": "9", "minute": "30-59"},
                    {"hour": "10-15", "minute": "*"},
                    {"hour": "16", "minute": "0-44"},
                ],
            ),
            ("09:30", "16:00", 3600, [{"hour": "9-15", "minute": "30"}]),
            ("09:00", "17:00", 7200, [{"hour": "9-15/2", "minute": "0"}]),
            ("00:00", "23:59", 60, [{"hour": "0-22", "minute": "*"}, {"hour": "23", "minute": "0-58"}]),
        ],
    )
    def test_shapes(self, start, end, interval, pieces):
        window = nyse_window(calendar="none", start=start, end=end)
        got = [{k: piece[k] for k in ("hour", "minute")} for piece in window_pieces(window, interval)]
        assert got == pieces

    @pytest.mark.parametrize(
        ("start", "end", "interval"),
        [
            ("09:30", "16:00", 60),
            ("09:30", "16:00", 300),
            ("09:30", "16:00", 30),
            ("09:30", "16:00", 90),
            ("09:30", "16:00", 45),
            ("09:45", "11:10", 420),
            ("10:00", "10:45", 60),
            ("09:00", "16:00", 3600),
            ("22:00", "02:00", 60),
            ("22:30", "01:15", 600),
            ("18:00", "00:00", 900),
        ],
    )
    def test_fire_times_are_exactly_the_grid(self, start, end, interval):
        window = nyse_window(calendar="none", start=start, end=end)
        got = fire_times(fixed(window, interval), ny(2026, 3, 2), ny(2026, 3, 4))
        expected = []
        # Monday 2 and Tuesday 3 (Sunday the 1st adds nothing; an overnight session spills into the next day)
        for day in (1, 2, 3):
            opens = datetime.combine(ny(2026, 3, day).date(), window.start, tzinfo=NY)
            closes = datetime.combine(opens.date() + timedelta(days=window.overnight), window.end, tzinfo=NY)
            if opens.weekday() not in window.days:
                continue
            moment = opens
            while moment < closes:
                if ny(2026, 3, 2) <= moment < ny(2026, 3, 4):
                    expected.append(moment)
                moment += timedelta(seconds=interval)
        assert got == expected

    def test_overnight_pieces_use_the_following_weekdays(self):
        window = nyse_window(calendar="none", start="22:00", end="02:00")
        assert window_pieces(window, 60) == [
            {"day_of_week": "mon-fri", "hour": "22-23", "minute": "*", "second": "0"},
            {"day_of_week": "tue-sat", "hour": "0-1", "minute": "*", "second": "0"},
        ]
        trigger = fixed(window)
        assert trigger.get_next_fire_time(None, ny(2026, 3, 7, 1, 30)) == ny(2026, 3, 7, 1, 30)  # Sat 01:30
        # then Monday 22:00
        assert trigger.get_next_fire_time(None, ny(2026, 3, 7, 2, 0)) == ny(2026, 3, 9, 22, 0)
        weekend = nyse_window(calendar="none", start="22:00", end="02:00", days="sat-sun")
        assert window_pieces(weekend, 60)[1]["day_of_week"] == "mon,sun"

    def test_sub_minute_interval_uses_seconds(self):
        trigger = fixed(interval=30)
        assert trigger.get_next_fire_time(None, ny(*MONDAY, 9, 30, 1)) == ny(*MONDAY, 9, 30, 30)
        assert trigger.get_next_fire_time(None, ny(*MONDAY, 15, 59, 31)) == ny(2026, 3, 3, 9, 30)
        assert describe_trigger(trigger) == "every 30 s 09:30-16:00 Mon-Fri America/New_York"

    def test_odd_intervals_are_rounded_and_say_so(self):
        trigger = fixed(interval=47)
        assert len(trigger.triggers) <= MAX_PIECES
        assert describe_trigger(trigger) == (
            "every minute 09:30-16:00 Mon-Fri America/New_York (interval 47 s rounded)"
        )
        assert describe_trigger(fixed(interval=7)).startswith("every 6 s ")
        assert describe_trigger(fixed(interval=59.6)).startswith("every minute ")
        assert describe_trigger(fixed(interval=0.2)).startswith("every 1 s ")

    def test_start_date_is_respected(self):
        trigger = fixed(start_date=ny(2026, 3, 4, 0, 0))
        assert trigger.get_next_fire_time(None, ny(*MONDAY, 9, 0)) == ny(2026, 3, 4, 9, 30)


class TestIntervalModes:
    @pytest.mark.parametrize("mode", ["always", "instrument", "ALWAYS"])
    def test_interval_trigger(self, mode):
        start = utc(2026, 3, 7, 12, 0)
        trigger = build_trigger(mode, interval_seconds=60, window=None, start_date=start)
        assert isinstance(trigger, IntervalTrigger)
        assert trigger.get_next_fire_time(None, start) == start
        second = trigger.get_next_fire_time(start, start + timedelta(seconds=1))
        assert second == start + timedelta(seconds=60)
        assert describe_trigger(trigger) == "every 60 s"

    def test_instrument_mode_ignores_the_window(self):
        start = utc(2026, 1, 1)
        trigger = build_trigger("instrument", interval_seconds=2.5, window=nyse_window(), start_date=start)
        assert isinstance(trigger, IntervalTrigger)
        assert describe_trigger(trigger) == "every 2.5 s"

    @freeze_time("2026-03-07 12:00:00")
    def test_without_start_date_apscheduler_starts_one_interval_from_now(self):
        trigger = build_trigger("always", interval_seconds=60, window=None)
        assert trigger.get_next_fire_time(None, utc(2026, 3, 7, 12, 0)) == utc(2026, 3, 7, 12, 1)


@pytest.mark.parametrize(
    ("mode", "interval", "window", "message"),
    [
        ("sometimes", 60, None, "unknown trading hours mode"),
        ("always", 0, None, "above 0"),
        ("always", -5, None, "above 0"),
        ("always", float("nan"), None, "above 0"),
        ("always", float("inf"), None, "above 0"),
        ("fixed", 60, None, "needs a FixedWindow"),
    ],
)
def test_build_trigger_errors(mode, interval, window, message):
    with pytest.raises(ValueError, match=message):
        build_trigger(mode, interval_seconds=interval, window=window)


class TestDescribeAndPickle:
    def test_describe(self):
        assert describe_trigger(fixed()) == "every minute 09:30-16:00 Mon-Fri America/New_York"
        assert describe_trigger(fixed(interval=300)) == "every 5 minutes 09:30-16:00 Mon-Fri America/New_York"
        assert describe_trigger(fixed(interval=3600)) == "every hour 09:30-16:00 Mon-Fri America/New_York"
        overnight = nyse_window(calendar="none", start="22:00", end="02:00", days="daily")
        label = "every minute 22:00-02:00 daily America/New_York (overnight)"
        assert describe_trigger(fixed(overnight)) == label
        assert describe_trigger(CronTrigger(hour=9)).startswith("cron[")
        both = OrTrigger([IntervalTrigger(seconds=5, start_date=utc(2026, 1, 1)), fixed()])
        assert describe_trigger(both) == "every 5 s or every minute 09:30-16:00 Mon-Fri America/New_York"

    def test_window_trigger_survives_the_job_store(self):
        # SQLAlchemyJobStore pickles the job state, trigger included
        trigger = fixed()
        restored = pickle.loads(pickle.dumps(trigger))
        assert isinstance(restored, WindowTrigger)
        assert describe_trigger(restored) == describe_trigger(trigger)
        now = ny(*MONDAY, 9, 59, 30)
        assert restored.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now)
