"""Every value the view returns has the type the reference fold gives, and typed attributes filter.

A unit's attributes are ``dict[str, Any]``: the view must give back a ``date`` attribute as a date
(not its ISO text), a bool as a bool, a float as a float … exactly as :func:`fold` does, on both
backends, after a rebuild, and whether or not the plugin that declared the attribute is loaded.
"""

from __future__ import annotations

import json
import typing
from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

import qingdan
from qingdan.core.errors import InvalidCommand
from qingdan.core.plugins import Catalogue
from qingdan.core.reference import fold_all
from qingdan.core.spec import AttributeSpec, AttributeType, Campaign
from qingdan.core.view import decode_typed, encode_typed
from tests.conftest import make_catalogue
from tests.test_cli import db, qd  # noqa: F401  (db is a fixture)

# One attribute of every AttributeType: (spec, what a clerk types, what the fold holds).
TYPED: dict[str, tuple[AttributeSpec, Any, Any]] = {
    "bool": (AttributeSpec(name="已建档", type="bool"), "是", True),
    "int": (AttributeSpec(name="从业人数", type="int"), "12", 12),
    "float": (AttributeSpec(name="贮存量吨", type="float"), "2", 2.0),
    "str": (AttributeSpec(name="备注", type="str"), "2020-08-01", "2020-08-01"),  # text, not a date
    "date": (AttributeSpec(name="许可日期", type="date"), "2020-08-01", date(2020, 8, 1)),
    "choice": (AttributeSpec(name="分级", type="choice", choices=("A", "B", "C")), "B", "B"),
}
RAW = {spec.name: raw for spec, raw, _ in TYPED.values()}
FOLDED = {spec.name: value for spec, _, value in TYPED.values()}


def with_typed(base: Catalogue) -> Catalogue:
    typed = Campaign(id="typed", name="类型测试专项", kind="专项", lead_departments=("镇安监局",),
                     start=date(2020, 7, 1), end=date(2022, 12, 31), source="测试",
                     unit_attributes=tuple(spec for spec, _, _ in TYPED.values()))
    return Catalogue(campaigns={**base.campaigns, "typed": typed}, targets=base.targets,
                     tasks=base.tasks)


@pytest.fixture
def catalogue() -> Catalogue:
    return with_typed(make_catalogue())


def kinds_of(value: Any) -> Any:
    """The value with every leaf replaced by its type: equal values of other types differ here."""
    if isinstance(value, dict):
        return {k: kinds_of(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return (type(value), [kinds_of(v) for v in value])
    if isinstance(value, BaseModel):
        return (type(value), kinds_of(dict(value)))
    return type(value)


def assert_view_is_fold(ledger: qingdan.Ledger, as_of: date, known_at=None) -> None:
    """Every kind of row the view returns equals the fold's, value by value and type by type."""
    expected = fold_all(ledger._app, as_of, known_at)
    snap = ledger.snapshot(as_of=as_of, known_at=known_at)
    pairs = [
        (list(snap.all_units()), expected["units"]),
        (list(snap.hazards()), expected["hazards"]),
        (list(snap.measures()), expected["measures"]),
        (list(snap.reports()), expected["reports"]),
        ([snap.indicator(r.target_id) for r in expected["indicators"]], expected["indicators"]),
    ]
    tasks = {t.id: t for t in snap.tasks()}
    pairs.append(([{k: getattr(tasks[n], k) for k in state} for n, state in expected["tasks"]],
                  [state for _, state in expected["tasks"]]))
    for actual, wanted in pairs:
        assert actual == wanted
        assert kinds_of(actual) == kinds_of(wanted)


def register_typed(ledger: qingdan.Ledger, clock) -> str:
    clock.set("2020-08-01 09:00")
    number = ledger.register_unit(name="恒达化工", kind="企业", attributes=RAW, on=date(2020, 7, 20))
    ledger.register_unit(name="东港超市", kind="商场", attributes={"分级": "C"}, on=date(2020, 7, 20))
    return number


def test_every_attribute_type_is_covered():
    assert set(TYPED) == set(typing.get_args(AttributeType))
    for spec, raw, value in TYPED.values():
        assert spec.validate_value(raw) == value and type(spec.validate_value(raw)) is type(value)


def test_encoding_round_trips_python_types():
    value = {"d": date(2020, 8, 1), "b": False, "i": 3, "f": 3.0, "s": "2020-08-01", "n": None,
             "t": ("a", date(2021, 1, 1)), "l": [1.5, True], "inf": float("inf")}
    back = decode_typed(json.loads(json.dumps(encode_typed(value))))
    assert back == value and kinds_of(back) == kinds_of(value)


def test_view_rows_have_the_fold_types_for_every_attribute_type(ledger, clock):
    u = register_typed(ledger, clock)
    clock.set("2020-09-01 09:00")
    ledger.set_unit_attributes(u, attributes={"许可日期": "2020-09-01", "从业人数": "15", "备注": None},
                               on=date(2020, 8, 20))
    known = clock.mark()
    clock.set("2020-10-01 09:00")
    ledger.set_unit_attributes(u, attributes={"贮存量吨": "3.5", "已建档": "否"}, on=date(2020, 9, 15))
    ledger.report_task_progress("fire-1", text="摸底", percent=40, on=date(2020, 9, 1))
    ledger.record_indicator("fire-officers", value=7, on=date(2020, 9, 30))
    ledger.report_hazard(campaign="fire", unit="恒达化工", description="通道堵塞", unit_number=u)
    ledger.submit_report(period="2020-09")

    row = ledger.unit(u, as_of=date(2020, 8, 1))
    assert row.attributes == FOLDED
    assert {k: type(v) for k, v in row.attributes.items()} == {k: type(v) for k, v in FOLDED.items()}
    later = ledger.units(as_of=date(2020, 10, 1))[0].attributes
    assert later["许可日期"] == date(2020, 9, 1) and later["已建档"] is False and later["贮存量吨"] == 3.5
    assert "备注" not in later
    assert json.loads(row.model_dump_json())["attributes"]["许可日期"] == "2020-08-01"  # API JSON ordinary

    probes = [(date(2020, 7, 31), None), (date(2020, 8, 25), None), (date(2020, 10, 1), None),
              (date(2020, 10, 1), known)]
    for as_of, known_at in probes:
        assert_view_is_fold(ledger, as_of, known_at)
    ledger.rebuild()
    for as_of, known_at in probes:
        assert_view_is_fold(ledger, as_of, known_at)
    assert type(ledger.units()[0].attributes["许可日期"]) is date


def test_types_survive_without_the_plugin_that_declared_them(ledger_url, clock, catalogue):
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as full:
        u = register_typed(full, clock)
    bare = make_catalogue()  # no campaign declares 许可日期 …
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=bare) as other:
        assert other.unit(u).attributes == FOLDED
        other.rebuild()
        attributes = other.units()[0].attributes
        assert attributes == FOLDED and type(attributes["许可日期"]) is date
        assert type(attributes["贮存量吨"]) is float and type(attributes["从业人数"]) is int


@pytest.mark.parametrize("name, wanted", [
    ("许可日期", "2020-08-01"), ("许可日期", date(2020, 8, 1)),
    ("已建档", "是"), ("已建档", True), ("从业人数", "12"), ("从业人数", 12),
    ("贮存量吨", "2.0"), ("贮存量吨", 2), ("分级", "B"), ("备注", "2020-08-01"),
])
def test_filters_coerce_values_to_the_attribute_type(ledger, clock, name, wanted):
    u = register_typed(ledger, clock)
    assert [r.number for r in ledger.units(**{name: wanted})] == [u]
    assert [r.number for r in ledger.units(include_closed=True, **{name: wanted})] == [u]


def test_filters_that_match_nothing_or_a_missing_attribute(ledger, clock):
    u = register_typed(ledger, clock)
    assert ledger.units(许可日期=date(2020, 8, 1) + timedelta(days=1)) == []
    assert ledger.units(已建档="否") == []
    assert ledger.units(许可日期="2020-08-01", kind="商场") == []
    others = [r.number for r in ledger.units(许可日期=None)]
    assert u not in others and len(others) == 1
    clock.set("2020-08-02 09:00")
    ledger.close_unit(u, reason="关停", on=date(2020, 8, 2))
    assert ledger.units(许可日期="2020-08-01") == []
    assert [r.number for r in ledger.units(include_closed=True, 许可日期="2020-08-01")] == [u]


@pytest.mark.parametrize("filters, words", [
    ({"分级": "bad"}, ("分级", "bad")),
    ({"风险等级": "bad"}, ("风险等级", "bad")),
    ({"许可日期": "2020-13-01"}, ("许可日期", "YYYY-MM-DD")),
    ({"从业人数": "很多"}, ("从业人数", "整数")),
    ({"贮存量吨": "x"}, ("贮存量吨", "数值")),
    ({"已建档": "也许"}, ("已建档", "是/否")),
    ({"没有的属性": "1"}, ("未知的单位属性", "没有的属性")),
])
def test_a_bad_filter_is_a_clear_invalid_command(ledger, clock, filters, words):
    register_typed(ledger, clock)
    with pytest.raises(InvalidCommand) as error:
        ledger.units(**filters)
    assert all(word in str(error.value) for word in words)


def test_verify_integrity_is_ok_with_date_attributes(ledger, clock):
    u = register_typed(ledger, clock)
    clock.set("2020-09-01 09:00")
    ledger.set_unit_attributes(u, attributes={"许可日期": "2020-09-01"}, on=date(2020, 8, 20))
    ledger.report_task_progress("fire-1", text="摸底", percent=40, on=date(2020, 8, 25))
    ledger.submit_report(period="2020-08", as_of=date(2020, 8, 31))
    report = ledger.verify_integrity(dates=[date(2020, 7, 25), date(2020, 8, 19), date(2020, 8, 20)])
    assert report.ok, report.problems


def test_cli_unit_list_filters_by_a_date_attribute(db):  # noqa: F811
    u = qd(db, "unit", "add", "-n", "东港化工", "-k", "危险废物产生单位",
           "--attr", "贮存起始日期=2020-08-01", "--attr", "危险废物管理计划申报=是",
           "--on", "2020-08-01").stdout.strip()
    qd(db, "unit", "add", "-n", "南阳修理厂", "-k", "汽车维修单位", "--attr", "贮存起始日期=2020-09-01",
       "--on", "2020-08-01")
    listed = json.loads(qd(db, "unit", "list", "-a", "贮存起始日期=2020-08-01", "-f", "json").stdout)
    assert [x["number"] for x in listed] == [u]
    assert listed[0]["attributes"]["贮存起始日期"] == "2020-08-01"
    assert listed[0]["attributes"]["危险废物管理计划申报"] is True
    both = qd(db, "unit", "list", "-a", "贮存起始日期=2020-08-01", "-a", "危险废物管理计划申报=是", "-f", "json")
    assert [x["number"] for x in json.loads(both.stdout)] == [u]
    table = qd(db, "unit", "list", "-a", "贮存起始日期=2020-08-01").stdout  # the table renders a date too
    assert u in table and "U-00002" not in table
    for bad, words in (("贮存起始日期=昨天", ("贮存起始日期", "昨天")), ("风险等级=bad", ("风险等级", "bad")),
                       ("没有的属性=1", ("未知的单位属性",))):
        result = qd(db, "unit", "list", "-a", bad, code=1)
        assert result.stderr.startswith("错误：") and all(w in result.stderr for w in words)
        assert "Traceback" not in result.stderr and "内部错误" not in result.stderr
