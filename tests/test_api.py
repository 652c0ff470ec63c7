"""The HTTP API (:mod:`qingdan.web`) end to end, on SQLite and on PostgreSQL.

Every command route walks a hazard (and a measure, a task, units, an indicator, a report) through
its life; every query is compared with the library reading the same database; each error status
comes with ``{"error": {"type", "message"}}`` and a Chinese message; bearer tokens come from a
policy file; the event feed is followed in pages while another client writes; and, as a property,
the two lists over HTTP are the library's two lists for any ``as_of`` and ``known_at``. No response
in this file may be a 5xx or show a stack trace (a response hook checks every one).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qingdan
from qingdan.web import create_app
from qingdan.web.app import COMMANDS
from tests.conftest import make_catalogue
from tests.evidence import PDF, jpeg

CLERK = "安监办张三"
ACTOR = {"X-Qingdan-Actor": quote(CLERK)}  # HTTP headers are ASCII: the name is percent-encoded
PATHS = {name: path for path, name, _ in COMMANDS}
CREATES = {name for _, name, subject in COMMANDS if subject is None}  # answered 201, not 200
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}\b")  # three English words in a row


@pytest.fixture
def own_catalogue(monkeypatch):
    """The small test catalogue instead of the installed plugins, for every ledger the app opens."""
    catalogue = make_catalogue()
    monkeypatch.setattr("qingdan.core.plugins.get_catalogue", lambda: catalogue)
    return catalogue


def _checked(response: httpx.Response) -> None:
    """Every response of this file: never a 5xx, never a stack trace."""
    response.read()
    where = f"{response.request.method} {response.request.url}"
    assert "Traceback" not in response.text, f"{where}: a stack trace in the response"
    assert response.status_code < 500, f"{where} → {response.status_code} {response.text[:300]}"


def client_of(app: Any) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    client.event_hooks = {"response": [_checked]}
    return client


@contextmanager
def serve(url: str, **options: Any) -> Iterator[TestClient]:
    """A client of ``create_app(url, **options)``, with the app's lifespan (its ledgers closed after)."""
    with client_of(create_app(url, **options)) as client:
        yield client


@pytest.fixture
def api(ledger_url, own_catalogue) -> Iterator[TestClient]:
    with serve(ledger_url) as client:
        yield client


def path_of(command: str, subject: str | None = None) -> str:
    path = PATHS[command]
    return re.sub(r"\{\w+\}", quote(subject, safe=""), path) if subject is not None else path


def send(client: TestClient, command: str, subject: str | None = None, body: Any = None,
         headers: dict[str, str] = ACTOR) -> httpx.Response:
    if body is None:
        return client.post(path_of(command, subject), headers=headers)
    return client.post(path_of(command, subject), json=body, headers=headers)


def assert_error(response: httpx.Response, status: int, kind: str | None = None) -> str:
    """The error shape: exactly {"error": {"type", "message"}}, a Chinese message; returns the message."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert set(body["error"]) == {"type", "message"}, body
    assert isinstance(body["error"]["type"], str) and isinstance(body["error"]["message"], str)
    if kind is not None:
        assert body["error"]["type"] == kind, body
    message = body["error"]["message"]
    prose = re.sub(r"`[^`]*`", "", message)  # a command quoted in the message is not prose
    assert CHINESE.search(prose) and not ENGLISH.search(prose), f"the message is not in Chinese: {body}"
    return body["error"]["message"]


def as_json(value: Any) -> Any:
    """A library result as the API serialises it."""
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


# -- every command route ----------------------------------------------------------------------

H1, H2, M1, M2, U1, U2 = "H1", "H2", "M1", "M2", "U1", "U2"  # the records by creation order
#: (command, subject, body): one hazard's whole life, then a hazard left overdue, two measures, the
#: task, two units, an indicator, and a report submitted and resubmitted.
LIFE: list[tuple[str, str | None, dict[str, Any] | None]] = [
    ("report_hazard", None, {"campaign": "fire", "unit": "南阳化工有限公司", "description": "消防车通道被货物堵塞",
                             "level": "重大", "category": "生命通道", "village": "南阳村", "source": "检查",
                             "inspectors": ["王五", "赵六"], "found_on": "2020-09-01", "on": "2020-09-01"}),
    ("plan_rectification", H1, {"responsible_unit": "南阳化工有限公司", "responsible_person": "钱七",
                                "measures": "清理货物", "funds": 2.5, "deadline": "2020-09-30",
                                "contingency": "通道堵塞应急预案", "on": "2020-09-03"}),
    ("escalate", H1, {"supervisor": "镇安委会", "level": "镇", "doc_no": "南安委督〔2020〕3号", "on": "2020-09-05"}),
    ("request_extension", H1, {"deadline": "2020-10-15", "reason": "货物需协调仓储", "on": "2020-09-25"}),
    ("decide_extension", H1, {"approved": True, "on": "2020-09-26"}),
    ("report_progress", H1, {"text": "货物已清理一半", "on": "2020-10-01"}),
    ("complete_rectification", H1, {"cost": 2.1, "on": "2020-10-10"}),
    ("verify", H1, {"passed": True, "inspector": "王五", "method": "政府验收", "on": "2020-10-12"}),
    ("close", H1, None),  # no body at all: every field of 销号 is optional
    ("recheck", H1, {"passed": True, "inspector": "赵六"}),
    ("reopen", H1, {"reason": "回头看发现通道再次堵塞"}),
    ("correct", H1, {"field": "location", "value": "东侧消防通道", "reason": "补充隐患部位"}),
    ("withdraw", H1, {"reason": "与另一条重复登记", "note": "合并至新登记", "on": "2020-10-20"}),
    ("report_hazard", None, {"campaign": "fire", "unit": "北街群租房", "description": "电动车室内充电",
                             "category": "群租房", "found_on": "2020-09-02", "on": "2020-09-02"}),
    ("plan_rectification", H2, {"responsible_unit": "北街社区", "deadline": "2020-09-30", "on": "2020-09-02"}),
    ("add_measure", None, {"campaign": "fire", "title": "消防通道巡查制度", "department": "镇消防救援站",
                           "kind": "制度", "due": "2020-12-31", "on": "2020-09-01"}),
    ("issue_measure", M1, {"doc_no": "南消〔2020〕1号", "on": "2020-09-02"}),
    ("implement_measure", M1, {"on": "2020-09-10"}),
    ("revise_measure", M1, {"reason": "扩大巡查范围", "title": "消防通道与楼道巡查制度"}),
    ("add_measure", None, {"campaign": "hazchem", "title": "危化品台账制度", "department": "镇安监局", "on": "2020-09-01"}),
    ("repeal_measure", M2, {"reason": "并入新制度"}),
    ("report_task_progress", "fire-1", {"text": "已打通 3 条生命通道", "percent": 40}),
    ("complete_task", "fire-1", {}),
    ("register_unit", None, {"name": "南阳超市", "kind": "商铺", "village": "南阳村", "attributes": {"风险等级": "橙"}}),
    ("set_unit_attributes", U1, {"attributes": {"微型消防站": True}}),
    ("register_unit", None, {"name": "北街小作坊", "kind": "作坊"}),
    ("close_unit", U2, {"reason": "已关停注销"}),
    ("record_indicator", "fire-officers", {"value": 6}),
    ("set_profile", None, {"name": "南阳镇", "reviewer": "李强", "departments": ["镇安监局"], "on": "2020-07-01"}),
    ("submit_report", None, {"period": "2020-09", "as_of": "2020-09-30"}),
    ("submit_report", None, {"period": "2020-09", "as_of": "2020-09-30", "resubmit_reason": "撤销重复登记后重新报送"}),
]


def walk(client: TestClient) -> dict[str, str]:
    """Run :data:`LIFE` through the API; returns the numbers given to H1, H2, M1, …"""
    numbers: dict[str, str] = {}
    for command, subject, body in LIFE:
        target = numbers.get(subject, subject) if subject is not None else None
        response = send(client, command, target, body)
        assert response.status_code == (201 if command in CREATES else 200), (command, response.text)
        number = response.json()["number"]
        if command in CREATES:
            prefix = number[0]
            numbers[f"{prefix}{sum(k.startswith(prefix) for k in numbers) + 1}"] = number
        else:
            assert number == target
    return numbers


def test_every_command_route_and_every_query(api, ledger_url, own_catalogue):
    assert {command for command, _, _ in LIFE} == {name for _, name, _ in COMMANDS}  # every route walked
    n = walk(api)
    assert (n[H1], n[H2], n[M1], n[U1]) == ("H-fire-2020-0001", "H-fire-2020-0002", "M-fire-2020-0001", "U-00001")
    assert n["R1"] == n["R2"] == "R-2020-09"

    # 附件: a multipart upload (not a JSON command); its routes in detail: tests/test_web_attachments.py
    photo = api.post(f"/api/hazards/{n[H2]}/attach", headers=ACTOR, data={"kind": "整改前"},
                     files={"file": ("现场.jpg", jpeg("red"), "image/jpeg")}).json()["sha256"]
    document = api.post(f"/api/measures/{n[M1]}/attach", headers=ACTOR,
                        files={"file": ("通知.pdf", PDF, "application/pdf")}).json()["sha256"]

    with qingdan.open_ledger(ledger_url, catalogue=own_catalogue) as lib:
        assert api.get(f"/api/attachments/{document}").content == lib.attachment(document) == PDF
        assert api.get(f"/api/attachments/{photo}/thumbnail").headers["content-type"] == "image/jpeg"
        history = api.get(f"/api/hazards/{n[H1]}/history").json()
        assert [e["type"] for e in history] == [
            "Reported", "RectificationPlanned", "Escalated", "ExtensionRequested", "ExtensionDecided",
            "ProgressReported", "RectificationCompleted", "Verified", "Closed", "Rechecked", "Reopened", "Corrected",
            "Withdrawn"]
        assert {e["actor"] for e in history} == {CLERK}
        completed_at = history[6]["recorded_at"]
        queries = {  # path -> what the library says on the same database
            "/api/two-lists": lib.two_lists(),
            "/api/two-lists?as_of=2020-09-30&campaign=fire": lib.two_lists(as_of=date(2020, 9, 30), campaign="fire"),
            f"/api/two-lists?limit=1&after={n[H1]}": lib.two_lists(limit=1, after=n[H1]),
            "/api/two-lists?as_of=2020-10-11&known_at=2020-09-01": lib.two_lists(
                as_of=date(2020, 10, 11), known_at=date(2020, 9, 1)),
            f"/api/hazards/{n[H1]}": lib.hazard(n[H1]),
            f"/api/hazards/{n[H1]}?as_of=2020-10-11&known_at={quote(completed_at)}": lib.hazard(
                n[H1], as_of=date(2020, 10, 11), known_at=datetime.fromisoformat(completed_at)),
            f"/api/hazards/{n[H1]}/history": lib.history(n[H1]),
            f"/api/hazards/{n[H2]}": lib.hazard(n[H2]),
            f"/api/measures/{n[M1]}": lib.measure(n[M1]),
            f"/api/measures/{n[M2]}?as_of=2020-09-01": lib.measure(n[M2], as_of=date(2020, 9, 1)),
            f"/api/measures/{n[M1]}/history": lib.history(n[M1]),
            f"/api/units/{n[U1]}": lib.unit(n[U1]),
            f"/api/units/{n[U1]}/history": lib.history(n[U1]),
            "/api/units": lib.units(),
            "/api/units?include_closed=true&kind=作坊": lib.units(include_closed=True, kind="作坊"),
            "/api/tasks": lib.tasks(),
            "/api/tasks/fire-1/history": lib.history("fire-1"),
            "/api/indicators/fire-officers": lib.indicator("fire-officers"),
            "/api/indicators/fire-computed": None,  # a computed target has no readings
            "/api/overdue": lib.overdue(),
            "/api/due-soon?within_days=30&as_of=2020-10-01": lib.due_soon(within_days=30, as_of=date(2020, 10, 1)),
            "/api/stats": lib.stats(),
            "/api/stats?as_of=2020-10-12&campaign=fire": lib.stats(as_of=date(2020, 10, 12), campaign="fire"),
            "/api/trend?days=2020-09-30&days=2020-10-31&campaign=fire": lib.trend(
                [date(2020, 9, 30), date(2020, 10, 31)], campaign="fire"),
            "/api/targets": lib.targets(),
            "/api/findings": lib.findings(),
            "/api/campaigns": list(own_catalogue.campaigns.values()),
            "/api/reports": lib.reports(),
            "/api/reports?period=2020-09": lib.reports(period="2020-09"),
            "/api/reports/2020-09/diff": lib.report_diff("2020-09"),
            "/api/reports/2020-09/diff?submission=1": lib.report_diff("2020-09", submission=1),
            "/api/profile": lib.profile(),
            "/api/profile?as_of=2020-06-30": lib.profile(as_of=date(2020, 6, 30)),
            "/api/events?limit=1000": {"events": as_json(list(lib.events())), "last": lib.last_position()},
        }
        for path, expected in queries.items():
            response = api.get(path)
            assert response.status_code == 200, (path, response.text)
            assert response.json() == as_json(expected), path
        tested = [path.split("?")[0] for path in queries] + [
            "/api/verify", "/api/projections/fire-risk", f"/api/attachments/{document}",
            f"/api/attachments/{photo}/thumbnail"]
        for route in api.app.routes:  # a GET added to the app without a line above fails here
            if "GET" in getattr(route, "methods", ()) and route.path.startswith("/api/") \
                    and route.path not in ("/api/openapi.json", "/api/docs"):
                pattern = re.sub(r"\{\w+\}", "[^/]+", route.path)
                assert any(re.fullmatch(pattern, path) for path in tested), f"GET {route.path} is not tested"

        verified = api.get("/api/verify").json()
        assert verified["ok"] is True and verified["problems"] == []
        assert verified["events_checked"] == lib.last_position()

    # What the answers say, not only that they agree with the library.
    assert api.get(f"/api/hazards/{n[H1]}").json()["status"] == "withdrawn"
    assert api.get(f"/api/hazards/{n[H1]}?as_of=2020-10-11").json()["status"] == "awaiting_verification"
    assert [h["number"] for h in api.get("/api/overdue").json()] == [n[H2]]
    assert [h["number"] for h in api.get("/api/two-lists").json()["hazards"]] == [n[H2]]
    assert api.get(f"/api/measures/{n[M2]}").json()["status"] == "repealed"
    assert api.get("/api/tasks").json()[0]["status"] == "done"
    assert api.get("/api/indicators/fire-officers").json()["value"] == 6
    assert [u["number"] for u in api.get("/api/units?include_closed=true").json()] == [n[U1], n[U2]]
    assert api.get(f"/api/units/{n[U1]}").json()["attributes"] == {"风险等级": "橙", "微型消防站": True}
    reports = api.get("/api/reports").json()
    assert [(r["submission"], r["resubmit_reason"]) for r in reports] == [(1, None), (2, "撤销重复登记后重新报送")]
    assert api.get("/api/reports/2020-09/diff").json()["report"]["submission"] == 2
    assert api.get("/api/reports/2020-09/diff?submission=1").json()["report"]["submission"] == 1
    assert {c["id"] for c in api.get("/api/campaigns").json()} == {"fire", "hazchem"}
    assert {t["id"] for t in api.get("/api/targets").json()} == {"fire-officers", "fire-computed"}
    assert not own_catalogue.projections  # the test catalogue has none: any id is unknown
    assert_error(api.get("/api/projections/fire-risk"), 404, "NotFound")
    assert api.get("/api/openapi.json").json()["paths"].keys() >= set(PATHS.values())


def test_a_command_body_may_be_empty_or_absent(api):
    number = send(api, "report_hazard", body={"campaign": "fire", "unit": "某厂", "description": "灭火器过期"}).json()["number"]
    assert send(api, "complete_rectification", number).status_code == 200  # no body
    assert send(api, "verify", number, {"passed": True, "inspector": "王五"}).status_code == 200
    assert send(api, "close", number, {}).status_code == 200  # an empty object
    assert api.get(f"/api/hazards/{number}").json()["status"] == "closed"


def test_the_api_documentation_is_served_without_a_cdn(small):
    page = small.get("/api/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/api/docs-static/") for a in assets), assets
    assert all(small.get(a).status_code == 200 for a in assets)
    assert small.get("/api/openapi.json").json()["info"]["title"].startswith("qingdan")


# -- errors ---------------------------------------------------------------------------------------

HAZARD = {"campaign": "fire", "unit": "某厂", "description": "通道堵塞", "found_on": "2020-09-01"}
EXISTING = "H-fire-2020-0001"
MAX_BODY = 4096


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Iterator[TestClient]:
    """An app on SQLite with a small body limit, one hazard and one submission (shared: the tests
    using it write nothing)."""
    with pytest.MonkeyPatch.context() as patch:
        catalogue = make_catalogue()
        patch.setattr("qingdan.core.plugins.get_catalogue", lambda: catalogue)
        with serve(str(tmp_path_factory.mktemp("small") / "ledger.db"), max_body=MAX_BODY) as client:
            assert send(client, "report_hazard", body=HAZARD).json()["number"] == EXISTING
            assert send(client, "submit_report", body={"period": "2020-09", "as_of": "2020-09-30"}).status_code == 201
            yield client


ERRORS: list[tuple[str, int, str, str, str, dict[str, Any]]] = [
    # (case, status, type, method, path, request options)
    ("write without identity", 401, "Unauthenticated", "POST", "/api/hazards", {"json": HAZARD}),
    ("blank actor header", 401, "Unauthenticated", "POST", "/api/hazards",
     {"json": HAZARD, "headers": {"X-Qingdan-Actor": " "}}),
    ("bearer token without a policy", 401, "Unauthenticated", "POST", "/api/hazards",
     {"json": HAZARD, "headers": {"Authorization": "Bearer some-token"}}),
    ("Authorization on a read without a policy", 401, "Unauthenticated", "GET", "/api/two-lists",
     {"headers": {"Authorization": "Bearer some-token"}}),
    ("Authorization that is not Bearer", 401, "Unauthenticated", "GET", "/api/two-lists",
     {"headers": {"Authorization": "Basic dXNlcjpwdw=="}}),
    ("body actor differs from the caller", 403, "PermissionDenied", "POST", "/api/hazards",
     {"json": {**HAZARD, "actor": "李四"}, "headers": ACTOR}),
    ("unknown hazard", 404, "NotFound", "GET", "/api/hazards/H-fire-2020-0099", {}),
    ("unknown hazard's history", 404, "NotFound", "GET", "/api/hazards/H-fire-2020-0099/history", {}),
    ("command on an unknown hazard", 404, "NotFound", "POST", "/api/hazards/H-fire-2020-0099/close", {"headers": ACTOR}),
    ("unknown measure", 404, "NotFound", "GET", "/api/measures/M-fire-2020-0099", {}),
    ("unknown unit", 404, "NotFound", "GET", "/api/units/U-09999", {}),
    ("unknown task", 404, "NotFound", "POST", "/api/tasks/fire-99/complete", {"headers": ACTOR}),
    ("unknown target", 404, "NotFound", "GET", "/api/indicators/fire-nobody", {}),
    ("unknown projection", 404, "NotFound", "GET", "/api/projections/nope", {}),
    ("period never submitted", 404, "NotFound", "GET", "/api/reports/2020-10/diff", {}),
    ("submission never made", 404, "NotFound", "GET", "/api/reports/2020-09/diff?submission=2", {}),
    ("unknown path", 404, "HTTPError", "GET", "/api/nothing-here", {}),
    ("method not allowed", 405, "HTTPError", "DELETE", f"/api/hazards/{EXISTING}", {}),
    ("number already taken", 409, "Conflict", "POST", "/api/hazards",
     {"json": {**HAZARD, "number": EXISTING}, "headers": ACTOR}),
    ("missing field", 422, "InvalidCommand", "POST", "/api/hazards", {"json": {"campaign": "fire"}, "headers": ACTOR}),
    ("unknown field", 422, "InvalidCommand", "POST", "/api/hazards", {"json": {**HAZARD, "colour": "红"}, "headers": ACTOR}),
    ("wrong literal", 422, "InvalidCommand", "POST", "/api/hazards", {"json": {**HAZARD, "level": "特大"}, "headers": ACTOR}),
    ("wrong type", 422, "InvalidCommand", "POST", f"/api/hazards/{EXISTING}/decide-extension",
     {"json": {"approved": "maybe"}, "headers": ACTOR}),
    ("date out of range", 422, "InvalidCommand", "POST", f"/api/hazards/{EXISTING}/report-progress",
     {"json": {"text": "进展", "on": "2999-01-01"}, "headers": ACTOR}),
    ("unknown campaign", 422, "InvalidCommand", "POST", "/api/hazards", {"json": {**HAZARD, "campaign": "nope"}, "headers": ACTOR}),
    ("a rule of the ledger", 422, "InvalidCommand", "POST", f"/api/hazards/{EXISTING}/close", {"headers": ACTOR}),
    ("resubmission without a reason", 422, "InvalidCommand", "POST", "/api/reports",
     {"json": {"period": "2020-09"}, "headers": ACTOR}),
    ("bad period", 422, "InvalidCommand", "POST", "/api/reports", {"json": {"period": "2020-13"}, "headers": ACTOR}),
    ("invalid as_of", 422, "InvalidCommand", "GET", "/api/two-lists?as_of=2020-02-30", {}),
    ("as_of not a date", 422, "InvalidCommand", "GET", f"/api/hazards/{EXISTING}?as_of=yesterday", {}),
    ("invalid known_at", 422, "InvalidCommand", "GET", "/api/two-lists?known_at=2020-09-31", {}),
    ("known_at not a time", 422, "InvalidCommand", "GET", "/api/stats?known_at=2020-09-25T25:00", {}),
    ("negative limit", 422, "InvalidCommand", "GET", "/api/two-lists?limit=-1", {}),
    ("feed limit too large", 422, "InvalidCommand", "GET", "/api/events?limit=100000", {}),
    ("not a boolean", 422, "InvalidCommand", "GET", "/api/units?include_closed=perhaps", {}),
    ("declared body over the limit", 413, "PayloadTooLarge", "POST", "/api/hazards",
     {"json": {**HAZARD, "note": "很长" * MAX_BODY}, "headers": ACTOR}),
]


@pytest.mark.parametrize(("status", "kind", "method", "path", "options"),
                         [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_each_error_status_has_the_json_shape_and_a_chinese_message(small, status, kind, method, path, options):
    before = small.get("/api/events?limit=1000").json()["last"]
    assert_error(small.request(method, path, **options), status, kind)
    assert small.get("/api/events?limit=1000").json()["last"] == before  # and nothing was written


def test_an_unauthenticated_write_asks_for_a_bearer_token_or_an_actor(small):
    response = small.post("/api/hazards", json=HAZARD)
    assert "X-Qingdan-Actor" in assert_error(response, 401, "Unauthenticated")


def test_a_streamed_body_over_the_limit_is_413(small):
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold on what arrives
        yield b'{"campaign": "fire", "unit": "u", "description": "d", "note": "'
        for _ in range(MAX_BODY // 512 + 2):
            yield b"x" * 512
        yield b'"}'

    response = small.post("/api/hazards", content=chunks(),
                          headers={**ACTOR, "Content-Type": "application/json"})
    assert_error(response, 413, "PayloadTooLarge")


@pytest.mark.parametrize("body", [b'{"campaign": "fire",', b"\xff\xfe\xfd", b"[1, 2]", b'"text"'],
                         ids=["truncated JSON", "not UTF-8", "an array", "a string"])
def test_a_body_that_is_not_a_json_object_is_422_in_chinese(small, body):
    response = small.post("/api/hazards", content=body, headers={**ACTOR, "Content-Type": "application/json"})
    assert_error(response, 422, "InvalidCommand")


def answered(client: TestClient, paths: list[str], *params: dict[str, str]) -> list[str]:
    """The requests among ``paths`` (with each of ``params``) answered neither 200 nor a 4xx of the error shape."""
    bad = []
    for path in paths:
        for query in params or ({},):
            try:
                response = client.get(path, params=query or None)  # {} would drop the query in the path
                if response.status_code != 200:
                    assert_error(response, response.status_code)  # a 5xx fails in the response hook
            except AssertionError as error:
                bad.append(f"{path} {query}: {str(error).splitlines()[0]}")
    return bad


def test_as_of_is_a_calendar_date_not_a_unix_timestamp(small):
    bad = []
    for query in ["as_of=0", "as_of=86400", "as_of=0.0"]:
        response = small.get(f"/api/two-lists?{query}")
        if response.status_code != 422:
            bad.append(f"{query} → {response.status_code} as_of={response.json().get('as_of')}")
    assert not bad, bad


def test_numbers_beyond_the_database_range_are_answered_not_a_500(ledger_url, own_catalogue):
    with serve(ledger_url) as client:
        assert send(client, "report_hazard", body=HAZARD).status_code == 201
        bad = answered(client, [
            f"/api/events?after={2**63 - 1}", f"/api/events?after={2**63}", f"/api/events?after={10**30}",
            f"/api/two-lists?limit=1&offset={2**63}", f"/api/two-lists?limit=10&offset={10**30}",
        ])
    assert not bad, "\n".join(bad)


def test_known_at_at_the_ends_of_the_calendar_is_answered_not_a_500(small):
    edges = ["0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59-14:00",
             "9999-12-31T23:59:59.999999", "0001-01-01", "9999-12-31"]
    bad = answered(small, [f"/api/{q}" for q in ("two-lists", "stats", "units", "tasks", "overdue", "targets",
                                                 "findings", f"hazards/{EXISTING}")],
                   *({"known_at": k} for k in edges))
    assert not bad, "\n".join(bad)


def test_every_event_written_over_http_names_the_caller(api):
    """Also the events a command writes on the side (the first report on a task starts its record)."""
    send(api, "report_task_progress", "fire-1", {"text": "开始摸排", "percent": 10})
    send(api, "record_indicator", "fire-officers", {"value": 3})
    events = api.get("/api/events").json()["events"]
    assert [e["type"] for e in events] == ["Task.Tracked", "Task.ProgressReported",
                                           "Indicator.Tracked", "Indicator.Recorded"]
    assert [e["actor"] for e in events] == [CLERK] * 4


# -- tokens from a policy file ----------------------------------------------------------------------

ADMIN, VIEWER = "镇安委办 王明", "查看人员 赵敏"
ADMIN_TOKEN, VIEWER_TOKEN = "adm-3f9c2b7e1d", "view-8a41c0e6f2"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def guarded(tmp_path, own_catalogue) -> Iterator[TestClient]:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[actors."{ADMIN}"]\nrole = "admin"\n'
        f'token_sha256 = "{hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()}"\n\n'
        f'[actors."{VIEWER}"]\nrole = "viewer"\n'
        f'token_sha256 = "{hashlib.sha256(VIEWER_TOKEN.encode()).hexdigest()}"\n', encoding="utf-8")
    with serve(str(tmp_path / "ledger.db"), policy=str(policy)) as client:
        yield client


def test_tokens_from_the_policy_decide_who_may_write(guarded):
    message = assert_error(send(guarded, "report_hazard", body=HAZARD, headers=bearer(VIEWER_TOKEN)),
                           403, "PermissionDenied")
    assert VIEWER in message and "查看人员" in message

    response = send(guarded, "report_hazard", body=HAZARD, headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 201
    number = response.json()["number"]
    assert [e["actor"] for e in guarded.get(f"/api/hazards/{number}/history").json()] == [ADMIN]
    assert send(guarded, "escalate", number, {"supervisor": "镇安委会", "on": "2020-09-02"},
                headers=bearer(ADMIN_TOKEN)).status_code == 200
    assert [e["actor"] for e in guarded.get("/api/events").json()["events"]] == [ADMIN, ADMIN]

    # Reads need no token; a token that is not in the policy is refused even on a read.
    assert guarded.get("/api/two-lists").json()["hazards"][0]["number"] == number
    assert guarded.get(f"/api/hazards/{number}").status_code == 200
    assert guarded.get("/api/two-lists", headers=bearer(VIEWER_TOKEN)).status_code == 200
    unknown = guarded.get("/api/two-lists", headers=bearer("not-a-token"))
    assert_error(unknown, 401, "Unauthenticated")
    assert unknown.headers["www-authenticate"] == "Bearer"

    # Without a token a write is refused, and X-Qingdan-Actor does not stand in for one.
    assert_error(send(guarded, "report_hazard", body=HAZARD, headers={}), 401, "Unauthenticated")
    assert_error(send(guarded, "report_hazard", body=HAZARD, headers={"X-Qingdan-Actor": quote(ADMIN)}),
                 401, "Unauthenticated")
    # The token's actor cannot sign as someone else.
    assert_error(send(guarded, "report_hazard", body={**HAZARD, "actor": VIEWER}, headers=bearer(ADMIN_TOKEN)),
                 403, "PermissionDenied")
    assert guarded.get("/api/events").json()["last"] == 2


# -- the event feed ---------------------------------------------------------------------------------

FEED_FIELDS = {"position", "number", "type", "on", "recorded_at", "actor", "data"}


def test_a_follower_resumes_the_feed_without_gap_or_duplicate(ledger_url, own_catalogue):
    """Follow in pages of 2 while another client writes; half way the follower moves to a second
    instance of the service (as after a restart) and resumes from the ``last`` it remembered."""
    with ExitStack() as stack:
        follower = stack.enter_context(serve(ledger_url))
        writer = client_of(follower.app)  # a second client of the same service
        for i in range(3):
            assert send(writer, "report_hazard", body={**HAZARD, "unit": f"厂{i}"}).status_code == 201

        done = threading.Event()
        statuses: list[int] = []

        def write() -> None:
            try:
                for i in range(8):
                    statuses.append(send(writer, "report_hazard", body={**HAZARD, "unit": f"店{i}"}).status_code)
                    statuses.append(send(writer, "report_progress", "H-fire-2020-0001",
                                         {"text": f"进展{i}", "on": "2020-09-02"}).status_code)
            finally:
                done.set()

        thread = threading.Thread(target=write)
        thread.start()
        seen: list[dict[str, Any]] = []
        after, pages = 0, 0
        try:
            while True:
                finished = done.is_set()  # read before the page: an empty page after it means the end
                page = follower.get("/api/events", params={"after": after, "limit": 2}).json()
                positions = [e["position"] for e in page["events"]]
                assert len(positions) <= 2
                assert all(p > after for p in positions) and positions == sorted(set(positions))
                assert page["last"] == (positions[-1] if positions else after)
                seen += page["events"]
                after, pages = page["last"], pages + 1
                if pages == 4:  # another instance of the service on the same database
                    follower = stack.enter_context(serve(ledger_url))
                if finished and not positions:
                    break
        finally:
            thread.join()
        assert statuses == [201, 200] * 8

        everything = follower.get("/api/events", params={"limit": 1000}).json()
        assert seen == everything["events"]  # no gap, no duplicate, same order
        assert everything["last"] == seen[-1]["position"] == len(seen) == 3 + 16
        positions = [e["position"] for e in seen]
        assert positions == sorted(set(positions))
        with qingdan.open_ledger(ledger_url, catalogue=own_catalogue) as lib:
            assert seen == as_json(list(lib.events()))
        for event in seen:
            assert FEED_FIELDS <= set(event)
            assert isinstance(event["position"], int) and isinstance(event["data"], dict)
            assert event["type"].split(".")[0] == "Hazard" and event["actor"] == CLERK
            date.fromisoformat(event["on"])
            assert datetime.fromisoformat(event["recorded_at"]).utcoffset() is not None
        assert follower.get("/api/events", params={"after": after}).json() == {"events": [], "last": after}
        assert len(follower.get("/api/events", params={"after": 5, "limit": 3}).json()["events"]) == 3


# -- the two lists over HTTP are the library's ------------------------------------------------------

DAY0 = date(2020, 9, 1)
early = st.integers(0, 20).map(lambda k: (DAY0 + timedelta(days=k)).isoformat())  # records are made
day = st.integers(21, 90).map(lambda k: (DAY0 + timedelta(days=k)).isoformat())  # later steps on them
pick = st.integers(0, 4)  # which of the records made so far (modulo their number)
REPORT = st.tuples(st.just("report_hazard"), st.none(), st.fixed_dictionaries({
    "campaign": st.sampled_from(["fire", "hazchem"]), "unit": st.sampled_from(["甲厂", "乙店"]),
    "description": st.just("隐患"), "level": st.sampled_from(["一般", "重大"]), "found_on": early,
    "village": st.sampled_from(["南阳村", "北街社区"])}))
ADD = st.tuples(st.just("add_measure"), st.none(), st.fixed_dictionaries({
    "campaign": st.sampled_from(["fire", "hazchem"]), "title": st.just("制度"),
    "department": st.just("镇消防救援站"), "on": early}))
STEPS = st.one_of(
    REPORT, ADD,
    st.tuples(st.just("plan_rectification"), pick, st.fixed_dictionaries(
        {"responsible_unit": st.just("甲厂"), "deadline": day, "on": day})),
    st.tuples(st.just("complete_rectification"), pick, st.fixed_dictionaries({"on": day})),
    st.tuples(st.just("verify"), pick, st.fixed_dictionaries(
        {"passed": st.booleans(), "inspector": st.just("王五"), "on": day})),
    st.tuples(st.just("close"), pick, st.fixed_dictionaries({"on": day})),
    st.tuples(st.just("reopen"), pick, st.fixed_dictionaries({"reason": st.just("回头看"), "on": day})),
    st.tuples(st.just("correct"), pick, st.fixed_dictionaries(
        {"field": st.just("level"), "value": st.sampled_from(["一般", "重大"]), "reason": st.just("复核")})),
    st.tuples(st.just("withdraw"), pick, st.fixed_dictionaries({"reason": st.just("重复"), "on": day})),
    st.tuples(st.just("issue_measure"), pick, st.fixed_dictionaries({"doc_no": st.just("文号1"), "on": day})),
    st.tuples(st.just("repeal_measure"), pick, st.fixed_dictionaries({"reason": st.just("废止"), "on": day})),
)
#: a few records first, then any steps on them (many are refused: a refused step must change nothing)
HISTORIES = st.tuples(st.lists(REPORT, min_size=2, max_size=3), st.lists(ADD, max_size=1),
                      st.lists(STEPS, max_size=12)).map(lambda parts: parts[0] + parts[1] + parts[2])


@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=HISTORIES, data=st.data())
def test_the_two_lists_over_http_are_the_librarys(url_factory, own_catalogue, steps, data):
    url = url_factory()
    with serve(url) as client:
        made: dict[str, list[str]] = {"H": [], "M": []}
        for command, which, body in steps:
            if command == "report_hazard":
                body = {**body, "on": body["found_on"]}
            subject = None
            if which is not None:
                kind = "M" if command.endswith("_measure") else "H"
                subject = made[kind][which % len(made[kind])] if made[kind] else f"{kind}-fire-2020-0099"
            response = send(client, command, subject, body)
            assert response.status_code in (200, 201, 404, 422), response.text
            if response.status_code == 201:
                made[response.json()["number"][0]].append(response.json()["number"])

        recorded = [datetime.fromisoformat(e["recorded_at"])
                    for e in client.get("/api/events", params={"limit": 1000}).json()["events"]]
        moments = st.sampled_from(recorded).flatmap(
            lambda t: st.sampled_from([t - timedelta(microseconds=1), t, t + timedelta(microseconds=1)]))
        with qingdan.open_ledger(url, catalogue=own_catalogue) as lib:
            for _ in range(3):
                as_of = data.draw(st.one_of(st.none(), day.map(date.fromisoformat)), label="as_of")
                known_at = data.draw(st.one_of(st.none(), st.just(recorded[0].date()), moments), label="known_at")
                campaign = data.draw(st.sampled_from([None, "fire", "hazchem"]), label="campaign")
                params = {k: v.isoformat() for k, v in (("as_of", as_of), ("known_at", known_at)) if v is not None}
                if campaign is not None:
                    params["campaign"] = campaign
                response = client.get("/api/two-lists", params=params)
                assert response.status_code == 200, response.text
                expected = lib.two_lists(as_of=as_of, known_at=known_at, campaign=campaign)
                assert response.json() == expected.model_dump(mode="json")
