"""A parts day through the service: the driver's link opens the route with its pick list, its
depot calls and each visit's parts (JSON and page), as stored and served.

The day (``tests.parts_days``): T1 calls at D1 for V2's valves; T2, based at D1, loads V3's
thermostat there before leaving."""

from __future__ import annotations

from tests.api.conftest import Service
from tests.parts_days import parts_day


def test_the_drivers_link_opens_the_parts_of_the_day(service: Service) -> None:
    plan_id = service.solved_plan(parts_day())
    link = service.client.post(f"/v1/plans/{plan_id}/routes/T2/link", headers=service.auth)
    token = {"token": link.json()["token"]}
    route = service.client.get(f"/v1/plans/{plan_id}/routes/T2", params=token)
    assert route.status_code == 200, route.text
    view = route.json()
    (load,) = view["pick_list"]
    assert view["depot_stops"] == [load]
    assert (load["depot_id"], load["name"], load["before_leaving"]) == ("D1", "Nanshan store", True)
    assert load["parts"] == [{"part": "TH-9", "quantity": 1}]
    parts = {stop["visit_id"]: stop.get("parts") for stop in view["stops"]}
    assert parts == {
        "V3": [{"part": "TH-9", "quantity": 1, "source": "van", "depot_id": None}],
        "V4": None,
    }
    page = service.client.get(f"/v1/plans/{plan_id}/routes/T2/map", params=token)
    assert page.status_code == 200, page.text
    assert "Before leaving: load at <bdi>Nanshan store</bdi></b> (<bdi>D1</bdi>)" in page.text
    assert "1 &times; <b><bdi>TH-9</bdi></b> in the van" in page.text
    t1 = service.client.get(f"/v1/plans/{plan_id}/routes/T1", headers=service.auth).json()
    assert [(c["depot_id"], c["before_visit_id"]) for c in t1["depot_stops"]] == [("D1", "V2")]
    assert "pick_list" not in t1
