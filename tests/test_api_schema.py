"""The HTTP API against its own OpenAPI document (schemathesis): no input makes it fail.

Every GET and a few POSTs (new records, a step on an existing hazard, a submission) get requests
generated from ``/api/openapi.json`` — valid ones and invalid ones. Whatever is sent, no response is
a 5xx and every error is ``{"error": {"type", "message"}}`` without a stack trace. Kept small for CI
(a few examples per operation); ``QINGDAN_SCHEMA_EXAMPLES`` raises it for a longer local run.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from qingdan.web import create_app
from tests.conftest import make_catalogue

EXAMPLES = int(os.environ.get("QINGDAN_SCHEMA_EXAMPLES", "6"))
ACTOR = {"X-Qingdan-Actor": quote("安监办张三")}
POSTS = {"report_hazard", "register_unit", "add_measure", "escalate", "record_indicator", "submit_report"}


def _load_schema() -> Any:
    """The document as the app serves it (read once, from a throwaway in-memory ledger)."""
    app = create_app(":memory:")
    try:
        return schemathesis.openapi.from_asgi("/api/openapi.json", app)
    finally:
        app.state.ledgers.close()


schema = _load_schema().include(
    lambda ctx: ctx.operation.method.upper() == "GET"
    or ctx.operation.definition.raw.get("operationId") in POSTS)


@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error response is {"error": {"type", "message"}} and never shows a stack trace."""
    assert "Traceback" not in response.text, "a stack trace reached the response"
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {response.text[:200]}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"type", "message"}, f"not the error shape: {response.text[:200]}"
    assert isinstance(error["type"], str) and isinstance(error["message"], str) and error["message"]
    return True


@pytest.fixture
def served(tmp_path, monkeypatch) -> Any:
    """The app on a small SQLite ledger (a hazard, a measure, a unit, a submission) with the test catalogue."""
    catalogue = make_catalogue()
    monkeypatch.setattr("qingdan.core.plugins.get_catalogue", lambda: catalogue)
    app = create_app(str(tmp_path / "ledger.db"))
    with TestClient(app) as client:
        for path, body in [
            ("/api/hazards", {"campaign": "fire", "unit": "某厂", "description": "通道堵塞", "found_on": "2020-09-01"}),
            ("/api/measures", {"campaign": "fire", "title": "巡查制度", "department": "镇消防救援站"}),
            ("/api/units", {"name": "某店", "kind": "商铺"}),
            ("/api/reports", {"period": "2020-09", "as_of": "2020-09-30"}),
        ]:
            assert client.post(path, json=body, headers=ACTOR).status_code == 201
        yield app


def test_the_document_lists_every_route_and_the_test_takes_every_get():
    operations = {op.ok().label for op in _load_schema().get_all_operations()}
    assert {"GET /api/two-lists", "GET /api/events", "POST /api/hazards", "POST /api/reports"} <= operations
    gets = {o for o in operations if o.startswith("GET ")}
    assert len(gets) >= 20
    assert gets <= {op.ok().label for op in schema.get_all_operations()}


def test_the_document_describes_errors_as_they_are():
    """A client generated from the document must expect {"error": …}, not FastAPI's {"detail": […]}."""
    wrong = [f"{method.upper()} {path} → {status}"
             for path, operations in schema.raw_schema["paths"].items()
             for method, operation in operations.items()
             for status, response in operation.get("responses", {}).items()
             if status.startswith("4") and "HTTPValidationError" in json.dumps(response)]
    assert not wrong, f"{len(wrong)} documented error responses are not the error shape, e.g. {wrong[:3]}"


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case, served):
    case.call_and_validate(app=served, headers=ACTOR, checks=[not_a_server_error, error_shape])
