"""`instrument` mode: an instrument trades only in an `AutomatedTrading` session of its Saxo schedule."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.models import TradingSession, WatchItem
from bot.errors import SaxoRetryable
from bot.hours.gate import GateDecision, HoursGate, current_session
from tests.hours.support import utc

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "saxo"
FIXTURE = FIXTURES / "ref_v1_instruments_tradingschedule_uic_assettype.json"

AAPL = WatchItem("Stock", 211, "AAPL:xnas")
BTC = WatchItem("FxCrypto", 24_821, "BTCUSD")
EURUSD = WatchItem("FxSpot", 21, "EURUSD")


def parse_schedule(body: dict) -> list[TradingSession]:
    """Saxo's `/ref/v1/instruments/tradingschedule` body -> sessions (the test's own reading of the wire)."""

    def when(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return [TradingSession(when(s["StartTime"]), when(s["EndTime"]), s["State"]) for s in body["Sessions"]]


def stock_day(day: datetime) -> list[TradingSession]:
    """A US stock on one EDT weekday as Saxo lists it (UTC): closed, pre-market, regular, post-market."""
    at = lambda hour, minute=0: day.replace(hour=hour, minute=minute)  # noqa: E731
    return [
        TradingSession(at(0), at(8), "Closed"),
        TradingSession(at(8), at(13, 30), "PreMarket"),
        TradingSession(at(13, 30), at(20), "AutomatedTrading"),
        TradingSession(at(20), day + timedelta(days=1), "PostMarket"),
    ]


def stock_schedule() -> list[TradingSession]:
    """Monday 2026-03-09 .. Tuesday 2026-03-10 (after the March DST change: 09:30 EDT = 13:30 UTC)."""
    return stock_day(utc(2026, 3, 9)) + stock_day(utc(2026, 3, 10))


def crypto_schedule() -> list[TradingSession]:
    """Crypto at Saxo is not 24/7: trading with a daily break (19:00-19:15 UTC), closed over the weekend."""
    sessions = []
    day = utc(2026, 3, 9)
    for _ in range(5):
        brk, resume, tomorrow = (
            day + timedelta(hours=19),
            day + timedelta(hours=19, minutes=15),
            day + timedelta(1),
        )
        sessions.append(TradingSession(day, brk, "AutomatedTrading"))
        sessions.append(TradingSession(brk, resume, "Break"))
        sessions.append(TradingSession(resume, tomorrow, "AutomatedTrading"))
        day = tomorrow
    sessions.append(TradingSession(day, day + timedelta(days=2), "Closed"))
    return sessions


class FakeSource:
    """A schedule_source that counts calls per instrument and can fail for some."""

    def __init__(self, schedules: dict[str, list[TradingSession]], failing: dict | None = None):
        self.schedules = schedules
        self.failing = dict(failing or {})
        self.calls: dict[str, int] = {}

    def __call__(self, item: WatchItem) -> list[TradingSession]:
        self.calls[item.id] = self.calls.get(item.id, 0) + 1
        if item.id in self.failing:
            raise self.failing[item.id]
        return self.schedules[item.id]


def gate_for(source: FakeSource) -> HoursGate:
    return HoursGate("instrument", schedule_source=source)


class TestCurrentSession:
    def test_start_inclusive_end_exclusive(self):
        sessions = stock_schedule()
        assert current_session(sessions, utc(2026, 3, 9, 13, 30)).state == "AutomatedTrading"
        assert current_session(sessions, utc(2026, 3, 9, 13, 29, 59)).state == "PreMarket"
        assert current_session(sessions, utc(2026, 3, 9, 19, 59, 59)).state == "AutomatedTrading"
        assert current_session(sessions, utc(2026, 3, 9, 20, 0)).state == "PostMarket"

    def test_none_outside_the_listed_sessions(self):
        assert current_session(stock_schedule(), utc(2026, 3, 8, 12)) is None
        assert current_session(stock_schedule(), utc(2026, 3, 11, 0)) is None
        assert current_session([], utc(2026, 3, 9, 12)) is None

    def test_any_zone_and_naive_sessions(self):
        from zoneinfo import ZoneInfo

        tokyo = utc(2026, 3, 9, 14).astimezone(ZoneInfo("Asia/Tokyo"))
        assert current_session(stock_schedule(), tokyo).state == "AutomatedTrading"
        naive = [TradingSession(datetime(2026, 3, 9, 13, 30), datetime(2026, 3, 9, 20), "AutomatedTrading")]
        assert current_session(naive, utc(2026, 3, 9, 14)) is naive[0]  # naive times are Saxo's UTC

    def test_naive_now_is_refused(self):
        with pytest.raises(ValueError, match="timezone-aware"):
            current_session(stock_schedule(), datetime(2026, 3, 9, 14))


class TestRecordedSample:
    """The recorded Saxo sample: one session, State "Undefined", StartTime == EndTime."""

    def test_sample_parses(self):
        sessions = parse_schedule(json.loads(FIXTURE.read_text())["response_sample"])
        assert sessions == [TradingSession(utc(2021, 5, 21), utc(2021, 5, 21), "Undefined")]

    def test_empty_session_covers_nothing(self):
        sessions = parse_schedule(json.loads(FIXTURE.read_text())["response_sample"])
        source = FakeSource({AAPL.id: sessions})
        decision = gate_for(source).check(utc(2021, 5, 21), [AAPL])
        assert decision == GateDecision(
            False, "no instrument in its trading session", {AAPL.id: "no trading session covers now"}
        )

    def test_undefined_state_is_closed(self):
        body = json.loads(FIXTURE.read_text())["response_sample"]
        body["Sessions"][0]["EndTime"] = "2021-05-22T00:00:00Z"
        source = FakeSource({AAPL.id: parse_schedule(body)})
        decision = gate_for(source).check(utc(2021, 5, 21, 12), [AAPL])
        assert decision.trade is False
        assert dict(decision.closed) == {AAPL.id: "session Undefined until 2021-05-22 00:00 UTC"}


class TestMixedWatchlist:
    def source(self) -> FakeSource:
        return FakeSource({AAPL.id: stock_schedule(), BTC.id: crypto_schedule()})

    def test_both_trading(self):
        decision = gate_for(self.source()).check(utc(2026, 3, 9, 14), [AAPL, BTC])
        assert decision == GateDecision(True, None, {})

    def test_stock_in_pre_market_is_closed_alone(self):
        decision = gate_for(self.source()).check(utc(2026, 3, 9, 9), [AAPL, BTC])
        assert decision.trade is True
        assert decision.reason is None
        assert dict(decision.closed) == {AAPL.id: "session PreMarket until 2026-03-09 13:30 UTC"}

    def test_crypto_break_closes_crypto_alone(self):
        decision = gate_for(self.source()).check(utc(2026, 3, 9, 19, 5), [AAPL, BTC])
        assert decision.trade is True
        assert dict(decision.closed) == {BTC.id: "session Break until 2026-03-09 19:15 UTC"}
        after = gate_for(self.source()).check(utc(2026, 3, 9, 19, 15), [AAPL, BTC])
        assert after == GateDecision(True, None, {})

    def test_everything_closed_skips_the_cycle(self):
        decision = gate_for(self.source()).check(utc(2026, 3, 14, 12), [AAPL, BTC])  # Saturday
        assert decision.trade is False
        assert decision.reason == "no instrument in its trading session"
        assert dict(decision.closed) == {
            AAPL.id: "no trading session covers now",
            BTC.id: "session Closed until 2026-03-16 00:00 UTC",
        }

    def test_post_market_is_not_automated_trading(self):
        decision = gate_for(self.source()).check(utc(2026, 3, 9, 21, 30), [AAPL])
        assert decision.trade is False
        assert dict(decision.closed) == {AAPL.id: "session PostMarket until 2026-03-10 00:00 UTC"}

    def test_empty_watchlist_is_not_a_skip(self):
        assert gate_for(self.source()).check(utc(2026, 3, 9, 14), []) == GateDecision(True, None, {})

    def test_closed_is_read_only(self):
        decision = gate_for(self.source()).check(utc(2026, 3, 9, 9), [AAPL, BTC])
        with pytest.raises(TypeError):
            decision.closed["x"] = "y"  # type: ignore[index]


class TestCache:
    def test_fetched_once_per_session_and_again_when_it_ends(self):
        source = FakeSource({AAPL.id: stock_schedule()})
        gate = gate_for(source)
        for minute in range(0, 6 * 60 + 30, 5):  # every 5 minutes through the regular session 13:30-20:00
            assert gate.check(utc(2026, 3, 9, 13, 30) + timedelta(minutes=minute), [AAPL]).trade
        assert gate.check(utc(2026, 3, 9, 19, 59, 59), [AAPL]).trade
        assert source.calls == {AAPL.id: 1}
        decision = gate.check(utc(2026, 3, 9, 20, 0), [AAPL])  # the session ended: ask again
        assert source.calls == {AAPL.id: 2}
        assert dict(decision.closed) == {AAPL.id: "session PostMarket until 2026-03-10 00:00 UTC"}
        gate.check(utc(2026, 3, 9, 23), [AAPL])
        assert source.calls == {AAPL.id: 2}
        gate.check(utc(2026, 3, 10, 0, 0), [AAPL])  # PostMarket ended
        assert source.calls == {AAPL.id: 3}

    def test_cache_is_per_instrument(self):
        source = FakeSource({AAPL.id: stock_schedule(), BTC.id: crypto_schedule()})
        gate = gate_for(source)
        gate.check(utc(2026, 3, 9, 14), [AAPL, BTC])
        # crypto's session ended at its break, the stock's did not
        gate.check(utc(2026, 3, 9, 19, 0), [AAPL, BTC])
        assert source.calls == {AAPL.id: 1, BTC.id: 2}
        gate.check(utc(2026, 3, 9, 19, 10), [AAPL, BTC])
        assert source.calls == {AAPL.id: 1, BTC.id: 2}
        gate.check(utc(2026, 3, 9, 20, 0), [AAPL, BTC])  # the stock's ended, and crypto's break (19:15)
        assert source.calls == {AAPL.id: 2, BTC.id: 3}

    def test_no_current_session_waits_for_the_next_listed_start(self):
        source = FakeSource({AAPL.id: stock_day(utc(2026, 3, 10))})  # only Tuesday is listed
        gate = gate_for(source)
        assert gate.check(utc(2026, 3, 9, 22), [AAPL]).closed[AAPL.id] == "no trading session covers now"
        gate.check(utc(2026, 3, 9, 23, 59), [AAPL])
        assert source.calls == {AAPL.id: 1}
        gate.check(utc(2026, 3, 10, 0, 0), [AAPL])
        assert source.calls == {AAPL.id: 2}

    def test_nothing_listed_ahead_is_asked_again_later(self):
        source = FakeSource({AAPL.id: []})
        gate = gate_for(source)
        gate.check(utc(2026, 3, 9, 12), [AAPL])
        gate.check(utc(2026, 3, 9, 12, 10), [AAPL])
        assert source.calls == {AAPL.id: 1}
        gate.check(utc(2026, 3, 9, 12, 15), [AAPL])
        assert source.calls == {AAPL.id: 2}

    def test_clock_going_back_refetches(self):
        source = FakeSource({AAPL.id: stock_schedule()})
        gate = gate_for(source)
        gate.check(utc(2026, 3, 9, 14), [AAPL])
        gate.check(utc(2026, 3, 9, 13), [AAPL])
        assert source.calls == {AAPL.id: 2}


class TestScheduleErrors:
    def test_one_failing_schedule_closes_only_that_instrument(self):
        path = "/ref/v1/instruments/tradingschedule/24821/FxCrypto"
        error = SaxoRetryable("timed out", status=503, method="GET", path=path)
        source = FakeSource({AAPL.id: stock_schedule()}, failing={BTC.id: error})
        decision = gate_for(source).check(utc(2026, 3, 9, 14), [AAPL, BTC])
        assert decision.trade is True
        assert list(decision.closed) == [BTC.id]
        assert decision.closed[BTC.id] == f"trading schedule unavailable: {error}"
        assert decision.closed[BTC.id].startswith(f"trading schedule unavailable: GET {path} HTTP 503")

    def test_failures_are_not_cached(self):
        source = FakeSource({AAPL.id: stock_schedule()}, failing={AAPL.id: RuntimeError("boom")})
        gate = gate_for(source)
        decision = gate.check(utc(2026, 3, 9, 14), [AAPL])
        assert decision == GateDecision(
            False, "no instrument in its trading session", {AAPL.id: "trading schedule unavailable: boom"}
        )
        del source.failing[AAPL.id]
        assert gate.check(utc(2026, 3, 9, 14, 1), [AAPL]) == GateDecision(True, None, {})
        assert source.calls == {AAPL.id: 2}

    def test_a_failure_after_a_good_fetch(self):
        source = FakeSource({AAPL.id: stock_schedule()})
        gate = gate_for(source)
        assert gate.check(utc(2026, 3, 9, 14), [AAPL]).trade
        source.failing[AAPL.id] = ValueError("bad body")
        assert gate.check(utc(2026, 3, 9, 15), [AAPL]).trade  # still cached: no call
        decision = gate.check(utc(2026, 3, 9, 20, 5), [AAPL])
        assert dict(decision.closed) == {AAPL.id: "trading schedule unavailable: bad body"}
