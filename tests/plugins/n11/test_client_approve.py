"""The client's order approval call against the sandbox: per-line results, and a write never sent twice."""

from __future__ import annotations

import pytest

from devtools.sandbox import FaultConfig
from n11.client import ORDER_UPDATE
from n11.errors import N11BadResponse, N11Unavailable
from tests.conftest import TEST_KEY
from tests.helpers.client import client_for


def created_line(sandbox) -> str:
    return next(str(p["lines"][0]["orderLineId"]) for p in sandbox.state.account(TEST_KEY).packages
                if p["shipmentPackageStatus"] == "Created" and p["_sender"] == "SELLER")


def test_approving_lines_gives_one_result_per_line_with_ids_as_strings(sandbox):
    line = created_line(sandbox)
    results = client_for(sandbox).approve_lines([line, "42"])
    assert [(item["lineId"], item["status"]) for item in results] == [(line, "SUCCESS"), ("42", "FAIL")]
    assert results[1]["reasons"] == ["Sipariş kalemi bulunamadı: 42"]
    assert sandbox.calls("PUT", ORDER_UPDATE)[0].body == {"lines": [{"lineId": int(line)}, {"lineId": 42}],
                                                          "status": "Picking"}


@pytest.mark.parametrize(("fault", "error"), [("500", N11Unavailable), ("reset", N11Unavailable),
                                              ("truncated", N11BadResponse)])
def test_an_approval_whose_outcome_is_unknown_is_not_sent_again(sandbox, fault, error):
    sandbox.faults = FaultConfig(rate=1.0, kinds=(fault,), paths=(ORDER_UPDATE,))
    with pytest.raises(error):
        client_for(sandbox).approve_lines([created_line(sandbox)])
    assert len(sandbox.calls("PUT", ORDER_UPDATE)) == 1


def test_approving_nothing_is_a_programming_error(sandbox):
    with pytest.raises(ValueError, match="at least one"):
        client_for(sandbox).approve_lines([])
