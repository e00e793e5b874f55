"""A bulk write whose reply is lost: found and followed, or shown not accepted (BulkNotAcceptedError).

The chaos suite's runs stop most often on a bulk request whose answer was lost (a 5xx, a dropped
connection) and which the lookup among recent bulk requests does not find. `reconciler/harvest/bulk.py`
raises `BulkNotAcceptedError` (a `BulkPendingError`) then, so that a caller may send the rows again; these
tests pin when it does, through the real client and the in-process sandbox.
"""

from __future__ import annotations

import pytest

from reconciler.errors import BulkPendingError
from reconciler.harvest.bulk import BulkNotAcceptedError
from tests.harness import Rig

ENDPOINT = "/v3/custom_field_options/bulk"
ROWS = [{"custom_field_id": 201, "name": "Principal"}, {"custom_field_id": 201, "name": "Distinguished"}]


def _seniority(rig: Rig) -> list[str]:
    return [o["name"] for o in rig.sandbox.rows("custom_field_options") if o["custom_field_id"] == 201]


@pytest.mark.parametrize("fault", ["500", "503", "drop_before"])
def test_a_lost_reply_with_no_recorded_bulk_request_is_not_accepted(fault: str) -> None:
    rig = Rig(faults=f"{fault}@POST {ENDPOINT}")
    with rig.client() as client, pytest.raises(BulkNotAcceptedError, match="no matching bulk request was found"):
        client.bulk("POST", ENDPOINT, ROWS)
    assert "Principal" not in _seniority(rig)  # nothing was accepted: sending the rows again is safe
    assert [r.path for r in rig.sandbox.log if r.method == "GET"] == ["/v3/bulk_requests"]


def test_a_reply_lost_after_the_bulk_request_was_recorded_is_followed_not_refused() -> None:
    rig = Rig(faults=f"drop_after@POST {ENDPOINT}")
    with rig.client() as client:
        outcome = client.bulk("POST", ENDPOINT, ROWS)
    assert (outcome.status, outcome.success_count) == ("completed", 2)
    assert set(_seniority(rig)[-2:]) == {"Principal", "Distinguished"}  # rows run in a shuffled order


def test_an_unreadable_lookup_proves_nothing_and_stays_pending() -> None:
    rig = Rig(faults=f"500@POST {ENDPOINT},500x7@GET /v3/bulk_requests")
    with rig.client() as client, pytest.raises(BulkPendingError, match="recent bulk requests cannot be read") as caught:
        client.bulk("POST", ENDPOINT, ROWS)
    assert not isinstance(caught.value, BulkNotAcceptedError)
