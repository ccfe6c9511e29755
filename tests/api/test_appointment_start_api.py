"""``policy.appointment_start`` at the HTTP door: an unknown value is a 422 naming the field,
and nothing is stored; a known one is accepted."""

from __future__ import annotations

from tests.api.conftest import Service
from tests.api.test_service import problems_stored
from tests.conftest import line_day


def test_an_unknown_appointment_start_is_422_naming_the_field(service: Service) -> None:
    day = line_day()
    day["policy"]["appointment_start"] = "whenever"
    answer = service.client.post("/v1/problems", json=day, headers=service.auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [
        {
            "path": "policy.appointment_start",
            "message": "Input should be 'at_time' or 'on_arrival' (got 'whenever')",
            "id": None,
        }
    ]
    assert problems_stored(service.database_url) == 0
    day["policy"]["appointment_start"] = "on_arrival"
    service.post_problem(day)
    assert problems_stored(service.database_url) == 1
