"""The external example plugin (examples/qingdan-gas) used through a real ledger, like a host would.

It is installed by `make test` (the Makefile installs every package under examples/) and found
through the `qingdan` entry-point group; core knows nothing about it.
"""

from __future__ import annotations

from datetime import date

import pytest

import qingdan
from qingdan.core.plugins import Catalogue, create_plugin_manager
from tests.conftest import Clock
from tests.test_plugins_external import installed_gas_plugin  # noqa: F401  (fixture)


@pytest.fixture
def gas_ledger(installed_gas_plugin, ledger_url):  # noqa: F811
    catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=None))
    if "gas" not in catalogue.campaigns:
        pytest.fail("the gas example plugin is installed but did not load in this interpreter")
    clock = Clock(qingdan.core.ledger.end_of_day(date(2023, 5, 1)))
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as ledger:
        yield ledger, clock


def test_external_campaign_hazards_targets_checks_and_projection(gas_ledger):
    ledger, clock = gas_ledger
    clock.set("2023-06-10 10:00")
    canteen = ledger.register_unit(name="南阳饭店", kind="餐饮场所", village="南阳村",
                                   attributes={"气源": "瓶装液化石油气", "燃气泄漏报警装置": False},
                                   on=date(2023, 5, 10))
    ledger.register_unit(name="东港小吃", kind="餐饮场所", attributes={"气源": "管道天然气",
                                                                    "燃气泄漏报警装置": True},
                         on=date(2023, 5, 10))
    n = ledger.report_hazard(campaign="gas", unit="南阳饭店", unit_number=canteen,
                             category="瓶装液化石油气", level="重大", description="气瓶与灶具间距不足",
                             found_on=date(2023, 6, 1))
    assert n == "H-gas-2023-0001"
    assert [h.number for h in ledger.two_lists(campaign="gas").hazards] == [n]

    alarm = next(t for t in ledger.targets(campaign="gas") if t.id == "gas.alarm_rate")
    assert (alarm.value, alarm.state) == (50.0, "on_track")  # 1 of 2 canteens, 40 days into 153
    staff = next(t for t in ledger.targets(campaign="gas") if t.id == "gas.inspection_staff")
    assert staff.state == "no_data"
    ledger.record_indicator("gas.inspection_staff", value=6, on=date(2023, 6, 5))
    staff = next(t for t in ledger.targets(campaign="gas") if t.id == "gas.inspection_staff")
    assert (staff.value, staff.state) == (6, "met")

    findings = [f for f in ledger.findings(campaign="gas") if f.check == "gas.bottled_gas_without_alarm"]
    assert [f.subject for f in findings] == [canteen]
    ledger.set_unit_attributes(canteen, attributes={"燃气泄漏报警装置": True}, on=date(2023, 6, 8))
    assert not [f for f in ledger.findings(campaign="gas") if f.check == "gas.bottled_gas_without_alarm"]
    # …but as of before the fix, the finding stands.
    assert [f.subject for f in ledger.findings(as_of=date(2023, 6, 7), campaign="gas")
            if f.check == "gas.bottled_gas_without_alarm"] == [canteen]

    table = ledger.projection("gas.users_by_source")
    assert {r["气源"]: r["餐饮场所"] for r in table} == {"管道天然气": 1, "瓶装液化石油气": 1, "其他": 0}
