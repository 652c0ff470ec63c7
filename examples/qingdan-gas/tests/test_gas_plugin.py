"""The gas plugin passes the same contract as qingdan's built-in campaigns, plus its own rules."""

from __future__ import annotations

from datetime import date

import qingdan_gas

from qingdan.testing import CampaignPluginContract, StaticSnapshot, make_unit


class TestGasPlugin(CampaignPluginContract):
    plugin = qingdan_gas
    source_pattern = r"燃气方案"  # this plugin cites its own work plan, not the 2020 seed


def test_bottled_gas_restaurant_without_alarm_is_found():
    [check] = [c for c in qingdan_gas.qingdan_checks() if c.id == "gas.bottled_gas_without_alarm"]
    units = [make_unit("餐饮场所", "U-00001", 气源="瓶装液化石油气"),
             make_unit("餐饮场所", "U-00002", 气源="瓶装液化石油气", 燃气泄漏报警装置=True),
             make_unit("餐饮场所", "U-00003", 气源="管道天然气")]
    assert [f.subject for f in check.run(StaticSnapshot(date(2023, 7, 1), units=units))] == ["U-00001"]


def test_alarm_rate():
    [target] = [t for t in qingdan_gas.qingdan_targets() if t.id == "gas.alarm_rate"]
    units = [make_unit("餐饮场所", 燃气泄漏报警装置=True), make_unit("餐饮场所")]
    assert target.measure(StaticSnapshot(date(2023, 7, 1), units=units)) == 50.0
