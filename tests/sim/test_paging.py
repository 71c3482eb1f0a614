"""Paging of list endpoints: $top/$skip honoured, at most 100 rows, __next only when rows remain."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from bot.sim import SimServer
from tests.sim.conftest import Api, market_order


def _all_pages(api: Api, path: str) -> tuple[list[dict], list[str]]:
    rows, links = [], []
    answer = api.get(path).json()
    while True:
        rows += answer["Data"]
        if "__next" not in answer:
            return rows, links
        links.append(answer["__next"])
        answer = api.session.get(answer["__next"], timeout=10).json()


def test_instrument_search_pages_through_everything(api: Api, sim: SimServer) -> None:
    sim.control.set_rate_limits(session_limit_per_minute=1000)
    rows, links = _all_pages(api, "/ref/v1/instruments?AssetTypes=Stock")
    assert len(rows) == len({r["Identifier"] for r in rows}) > 1000
    assert all(link.startswith(sim.base_url + "/ref/v1/instruments?") for link in links)
    query = parse_qs(urlsplit(links[0]).query)
    assert (query["$top"], query["$skip"], query["AssetTypes"]) == (["100"], ["100"], ["Stock"])


def test_top_and_skip(api: Api) -> None:
    page = api.get("/ref/v1/instruments?AssetTypes=FxSpot&$top=5&$skip=10").json()
    assert len(page["Data"]) == 5
    assert parse_qs(urlsplit(page["__next"]).query)["$skip"] == ["15"]
    capped = api.get("/ref/v1/instruments?AssetTypes=FxSpot&$top=1000").json()
    assert len(capped["Data"]) == 100 and "__next" in capped
    small = api.get("/ref/v1/instruments?Keywords=apple").json()
    assert len(small["Data"]) == 1 and "__next" not in small
    counted = api.get("/ref/v1/instruments?Keywords=usd&$inlinecount=AllPages&$top=1").json()
    assert counted["__count"] > 1
    assert api.get("/ref/v1/instruments?$top=-1").status_code == 400


def test_positions_page_with_field_groups_kept(api: Api, sim: SimServer) -> None:
    sim.control.set_rate_limits(session_limit_per_minute=1000, orders_per_second=1000)
    for n in range(130):
        assert api.post("/trade/v2/orders", market_order(21, "FxSpot", amount=1000, ExternalReference=f"p{n}")).ok
    rows, links = _all_pages(api, "/port/v1/positions/me?FieldGroups=PositionBase")
    assert len(rows) == 130 and len(links) == 1
    assert "FieldGroups=PositionBase" in links[0]
    assert all(set(r) == {"NetPositionId", "PositionId", "PositionBase"} for r in rows)
    assert [r["PositionBase"]["ExternalReference"] for r in rows] == [f"p{n}" for n in range(130)]
    first = api.get("/port/v1/positions/me?$top=30").json()
    assert len(first["Data"]) == 30 and "$skip=30" in first["__next"]
    assert requests.get(first["__next"], timeout=5).status_code == 401  # the link needs the token too
