"""The simulator's account on disk: two SimServers on one state file are one paper account (pinned clocks)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.sim import SimConfig, SimServer
from bot.sim.__main__ import main as sim_main
from bot.sim.clock import SimClock
from bot.sim.config import parse_iso
from bot.sim.state_file import StateFileError, owned_elsewhere
from tests.sim.conftest import Api, market_order
from tests.sim.working_helpers import LOG, order, pips, place, protected_buy, quote, working
from tests.support.clock import PINNED


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "data" / "sim-state.json"


@pytest.fixture
def servers() -> Iterator[Any]:
    started: list[SimServer] = []

    def start(state_file: Path | None, minutes: float = 0, **config: Any) -> SimServer:
        clock = SimClock(start=PINNED + timedelta(minutes=minutes))
        sim = SimServer(SimConfig(**config), clock=clock, state_file=state_file).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def account(api: Api) -> dict[str, Any]:
    """What a client sees of the account: cash, positions, working orders, the order log."""
    balance = api.get("/port/v1/balances/me").json()
    positions = api.get("/port/v1/positions/me").json()["Data"]
    return {
        "cash": balance["CashBalance"],
        "positions": sorted((p["PositionId"], p["PositionBase"]["Amount"]) for p in positions),
        "working": sorted(working(api)),
        "log": [(e["OrderId"], e["Status"]) for e in api.get(LOG).json()["Data"]],
        "account_key": api.account_key(),
    }


def trade(api: Api, sim: SimServer) -> dict[str, Any]:
    """A protected buy (filled, two working legs), a resting buy limit far below and a market stock buy."""
    protected, _, _ = protected_buy(api, sim)
    bid, _ = quote(api)
    limit = place(api, sim, order("Limit", "Buy", pips(bid - 0.02)))
    stock = place(api, sim, market_order(uic=211, amount=5))
    return {"protected": protected, "limit": limit, "stock": stock}


def test_a_second_simulator_on_the_same_file_continues_the_account(servers: Any, state: Path) -> None:
    first = servers(state)
    api = Api(first)
    placed = trade(api, first)
    before = account(api)
    assert len(before["positions"]) == 2 and len(before["working"]) == 3
    first.stop()

    second = servers(state, minutes=1)  # a minute later: the market continues, nothing crossed the far orders
    api2 = Api(second)
    assert account(api2) == before
    ids = [placed["protected"]["OrderId"], *(leg["OrderId"] for leg in placed["protected"]["Orders"])]
    ids += [placed["limit"]["OrderId"], placed["stock"]["OrderId"]]
    after = place(api2, second, market_order(uic=211, amount=1))
    assert int(after["OrderId"]) > max(int(i) for i in ids)  # OrderIds never repeat across restarts
    positions = api2.get("/port/v1/positions/me").json()["Data"]
    assert len({p["PositionId"] for p in positions}) == 3


def test_legs_keep_working_after_a_restart_and_cancel_as_a_pair(servers: Any, state: Path) -> None:
    first = servers(state)
    answer, _, _ = protected_buy(Api(first), first)
    first.stop()
    second = servers(state, minutes=1)
    api = Api(second)
    stop_id, limit_id = (leg["OrderId"] for leg in answer["Orders"])
    rows = working(api)
    assert rows[stop_id]["OrderRelation"] == "Oco" and rows[stop_id]["RelatedOpenOrders"][0]["OrderId"] == limit_id
    gone = api.delete(f"/trade/v2/orders/{stop_id}", params={"AccountKey": api.account_key()})
    assert gone.status_code == 200
    assert set(working(api)) == {limit_id}  # the other leg goes on alone, as before the restart


def test_every_order_is_on_disk_before_the_simulator_stops(servers: Any, state: Path) -> None:
    sim = servers(state)
    api = Api(sim)
    answer = place(api, sim, market_order(uic=211, amount=3))
    saved = json.loads(state.read_text())  # no stop(): a crash right now keeps the order
    assert [o["order_id"] for o in saved["orders"]] == [answer["OrderId"]]
    assert saved["version"] == 1 and saved["seed"] == 7
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert not state.with_name(state.name + ".tmp").exists()


def test_the_saved_seed_wins_so_account_keys_and_prices_stay(servers: Any, state: Path) -> None:
    first = servers(state, seed=11)
    key, prices = Api(first).account_key(), quote(Api(first))
    first.stop()
    second = servers(state, seed=7)
    assert Api(second).account_key() == key
    assert quote(Api(second)) == prices  # same (seed, time): same quote


def test_without_a_state_file_every_simulator_is_a_fresh_account(servers: Any, tmp_path: Path) -> None:
    first = servers(None)
    place(Api(first), first, market_order(uic=211, amount=3))
    first.stop()
    second = servers(None)
    assert Api(second).get("/port/v1/positions/me").json()["Data"] == []
    assert list(tmp_path.iterdir()) == []


def test_reset_through_the_test_hook_empties_the_saved_account(servers: Any, state: Path) -> None:
    sim = servers(state)
    place(Api(sim), sim, market_order(uic=211, amount=3))
    sim.control.reset()
    assert json.loads(state.read_text())["orders"] == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "damaged (not JSON"),
        ('{"kind": "saxo-bot simulator account", "version": 99}', "version 99"),
        ('{"kind": "saxo-bot simulator account", "version": 1, "seed": 7}', "damaged (KeyError"),
        ("[1, 2]", "not a simulator account file"),
    ],
)
def test_a_damaged_or_foreign_file_is_refused_naming_it_and_the_way_out(
    state: Path, content: str, problem: str
) -> None:
    state.parent.mkdir(parents=True)
    state.write_text(content)
    with pytest.raises(StateFileError) as caught:
        SimServer(SimConfig(), state_file=state)
    message = str(caught.value)
    assert str(state) in message and problem in message and "sim-reset" in message
    assert state.read_text() == content  # the paper history is left for the user to keep


def test_an_unknown_instrument_in_the_file_is_refused(servers: Any, state: Path) -> None:
    sim = servers(state)
    place(Api(sim), sim, market_order(uic=211, amount=3))
    sim.stop()
    saved = json.loads(state.read_text())
    saved["orders"][0]["inst"] = "Nonsense"
    state.write_text(json.dumps(saved))
    with pytest.raises(StateFileError, match="unknown instrument 'Nonsense'"):
        SimServer(SimConfig(), state_file=state)


def test_python_m_bot_sim_exits_2_on_a_damaged_state_file(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state.parent.mkdir(parents=True)
    state.write_text("garbage")
    assert sim_main(["--state", str(state)]) == 2
    err = capsys.readouterr().err
    assert str(state) in err and "sim-reset" in err


def test_a_second_simulator_while_the_first_runs_reads_the_account_and_saves_nothing(servers: Any, state: Path) -> None:
    owner = servers(state)
    place(Api(owner), owner, market_order(uic=211, amount=3))
    reader = servers(state, minutes=1)  # e.g. `python main.py status` while the bot runs
    assert reader.core.state_file is not None and reader.core.state_file.read_only
    assert len(Api(reader).get("/port/v1/positions/me").json()["Data"]) == 1
    reader.stop()
    place(Api(owner), owner, market_order(uic=211, amount=2))
    assert len(json.loads(state.read_text())["orders"]) == 2
    reader = servers(state, minutes=1)
    place(Api(reader), reader, market_order(uic=211, amount=1))  # the reader never overwrites the owner's file
    assert len(json.loads(state.read_text())["orders"]) == 2
    owner.stop()
    assert owned_elsewhere(state) is False
    fresh = servers(state)
    assert fresh.core.state_file is not None and not fresh.core.state_file.read_only


def test_a_stop_crossed_while_the_simulator_was_down_has_filled_when_it_is_back(servers: Any, state: Path) -> None:
    first = servers(state)
    answer, stop, _ = protected_buy(Api(first), first, distance=0.0005)
    first.stop()
    saved_at = json.loads(state.read_text())["orders_checked_at"]
    second = servers(state, minutes=24 * 60)  # a day later: the walk went through the stop meanwhile
    api = Api(second)
    stop_id, limit_id = (leg["OrderId"] for leg in answer["Orders"])
    assert working(api) == {}
    done = {o["OrderId"]: o for o in second.control.state()["orders"]}
    assert (done[stop_id]["Status"], done[limit_id]["Status"]) == ("Filled", "Cancelled")
    [fill] = [e for e in api.get(LOG, params={"OrderId": stop_id}).json()["Data"] if e["Status"] == "FinalFill"]
    filled_at = parse_iso(fill["ActivityTime"])
    assert saved_at < filled_at < second.clock.time()  # during the downtime, not at the restart
    assert done[stop_id]["FillPrice"] <= stop  # a sell stop fills at the bid once the bid is at or below it
    assert second.control.state()["positions"] == {}  # the stop closed the position (net zero)
