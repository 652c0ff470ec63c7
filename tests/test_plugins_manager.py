"""The plugin manager: entry points, QINGDAN_LOAD_PLUGINS, duplicate ids, misspelt and raising hooks."""

from __future__ import annotations

import importlib.metadata
from datetime import date

import pytest

from qingdan.core import plugins
from qingdan.core.errors import InvalidCommand, NotFound, PluginError
from qingdan.core.hookspecs import hookimpl
from qingdan.core.plugins import (
    Catalogue,
    create_plugin_manager,
    get_catalogue,
    get_plugin_manager,
    list_plugins,
    reset_plugin_manager,
    use_plugins,
)
from qingdan.core.spec import AttributeSpec, Campaign, Target

BUILT_INS = {"general", "study", "enterprise", "hazchem", "fire", "road", "transport", "construction", "waste"}


@pytest.fixture(autouse=True)
def _fresh_manager(monkeypatch):
    monkeypatch.delenv("QINGDAN_LOAD_PLUGINS", raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


def loaded_names(pm) -> set[str]:
    return {name for name, plugin in pm.list_name_plugin() if plugin is not None}


def campaign(campaign_id: str, **fields) -> Campaign:
    return Campaign(id=campaign_id, name=campaign_id, kind="专项", lead_departments=("安监所",),
                    start=date(2023, 1, 1), end=date(2023, 12, 31), source="测试", **fields)


class DuplicateFire:
    @hookimpl
    def qingdan_campaign(self):
        return campaign("fire")


class TargetsA:
    @hookimpl
    def qingdan_targets(self):
        return [Target(id="x.same", campaign="x", title="甲", goal=1, due=date(2023, 6, 30), source="测试")]


class TargetsB:
    @hookimpl
    def qingdan_targets(self):
        return [Target(id="x.same", campaign="x", title="乙", goal=1, due=date(2023, 6, 30), source="测试")]


class MisspeltHook:
    @hookimpl
    def qingdan_target(self):  # sic: the hook is qingdan_targets
        return []


class MisspeltUndecorated:
    def qingdan_chekcs(self):
        return []


class RaisingTargets:
    @hookimpl
    def qingdan_campaign(self):
        return campaign("broken")

    @hookimpl
    def qingdan_targets(self):
        raise RuntimeError("数据文件缺失")


class WrongReturn:
    @hookimpl
    def qingdan_checks(self):
        return "not a list"


def test_every_builtin_campaign_loads_through_entry_points():
    installed = {ep.name for ep in importlib.metadata.entry_points(group="qingdan")}
    assert BUILT_INS <= installed
    catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=None))
    assert BUILT_INS <= set(catalogue.campaigns)
    assert not catalogue.errors
    assert catalogue.owner("campaign", "fire") == "fire"


def test_load_plugins_env_limits_what_loads(monkeypatch):
    monkeypatch.setenv("QINGDAN_LOAD_PLUGINS", "fire, waste")
    pm = create_plugin_manager()
    assert loaded_names(pm) == {"fire", "waste"}
    assert set(Catalogue.from_plugin_manager(pm).campaigns) == {"fire", "waste"}


def test_empty_load_plugins_env_loads_none(monkeypatch):
    monkeypatch.setenv("QINGDAN_LOAD_PLUGINS", "")
    catalogue = Catalogue.from_plugin_manager(create_plugin_manager())
    assert catalogue.campaigns == {} and catalogue.targets == {} and catalogue.checks == {}


def test_unset_load_plugins_env_loads_all():
    assert BUILT_INS <= loaded_names(create_plugin_manager())


def test_naming_a_plugin_that_is_not_installed_is_an_error(monkeypatch):
    monkeypatch.setenv("QINGDAN_LOAD_PLUGINS", "fire,nosuchplugin")
    with pytest.raises(PluginError, match="nosuchplugin"):
        create_plugin_manager()


def test_manager_is_built_once_and_reset_rebuilds_it(monkeypatch):
    monkeypatch.setenv("QINGDAN_LOAD_PLUGINS", "road")
    first = get_plugin_manager()
    assert get_plugin_manager() is first
    assert set(get_catalogue().campaigns) == {"road"}
    monkeypatch.setenv("QINGDAN_LOAD_PLUGINS", "fire")
    assert get_plugin_manager() is first, "the cached manager does not re-read the environment"
    reset_plugin_manager()
    assert get_plugin_manager() is not first
    assert set(get_catalogue().campaigns) == {"fire"}


def test_duplicate_campaign_id_names_both_plugins():
    pm = create_plugin_manager(load=["fire"], extra=[DuplicateFire()])
    with pytest.raises(PluginError) as raised:
        Catalogue.from_plugin_manager(pm)
    assert "“fire”" in str(raised.value) and "DuplicateFire" in str(raised.value)


def test_duplicate_target_id_names_both_plugins():
    pm = create_plugin_manager(load=(), extra=[TargetsA(), TargetsB()])
    with pytest.raises(PluginError, match="x.same") as raised:
        Catalogue.from_plugin_manager(pm)
    assert "TargetsA" in str(raised.value) and "TargetsB" in str(raised.value)


def test_duplicate_id_from_a_builtin_check_is_rejected():
    class Copycat:
        @hookimpl
        def qingdan_checks(self):
            return [get_catalogue_checks()["waste.storage_over_one_year"]]

    def get_catalogue_checks():
        return Catalogue.from_plugin_manager(create_plugin_manager(load=["waste"])).checks

    with pytest.raises(PluginError, match="waste.storage_over_one_year"):
        Catalogue.from_plugin_manager(create_plugin_manager(load=["waste"], extra=[Copycat()]))


def test_misspelt_hook_is_rejected_naming_the_plugin():
    with pytest.raises(PluginError, match="MisspeltHook") as raised:
        create_plugin_manager(load=(), extra=[MisspeltHook()])
    assert "qingdan_target" in str(raised.value)


def test_undecorated_misspelt_hook_is_rejected_too():
    with pytest.raises(PluginError, match="qingdan_chekcs"):
        create_plugin_manager(load=(), extra=[MisspeltUndecorated()])


def test_a_hook_marked_under_another_name_is_honoured_and_other_names_are_not_hooks():
    class Renamed:
        helper = staticmethod(lambda: campaign("not a hook"))  # a plugin's own names are left alone

        @hookimpl(specname="qingdan_campaign")
        def my_campaign(self):
            return campaign("renamed")

    catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=(), extra=[Renamed()]))
    assert list(catalogue.campaigns) == ["renamed"]


def test_undecorated_correct_hook_is_honoured():
    class Plain:
        def qingdan_campaign(self):
            return campaign("plain")

    catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=(), extra=[Plain()]))
    assert set(catalogue.campaigns) == {"plain"}


def test_raising_hook_is_named_and_other_plugins_still_load():
    catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=["fire"], extra=[RaisingTargets()]))
    assert len(catalogue.errors) == 1
    problem = catalogue.errors[0]
    assert problem.plugin == "RaisingTargets" and problem.hook == "qingdan_targets"
    assert "数据文件缺失" in str(problem)
    assert {"fire", "broken"} <= set(catalogue.campaigns)
    assert catalogue.targets_of("fire"), "fire's targets still loaded"


def test_hook_returning_the_wrong_type_is_a_problem_not_a_crash():
    catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=["road"], extra=[WrongReturn()]))
    assert [(p.plugin, p.hook) for p in catalogue.errors] == [("WrongReturn", "qingdan_checks")]
    assert catalogue.checks_of("road")


def test_use_plugins_registrations_do_not_leak():
    before = get_catalogue()
    assert "plain" not in before.campaigns

    class Extra:
        @hookimpl
        def qingdan_campaign(self):
            return campaign("extra")

    with use_plugins(Extra(), load=["fire"]) as inside:
        assert get_catalogue() is inside
        assert set(inside.campaigns) == {"fire", "extra"}
    assert get_catalogue() is before
    assert "extra" not in get_catalogue().campaigns


def test_list_plugins_reports_version_hooks_and_campaign():
    infos = {info.name: info for info in list_plugins(create_plugin_manager(load=["hazchem"]))}
    assert set(infos) == {"hazchem"}
    info = infos["hazchem"]
    assert info.version == importlib.metadata.version("qingdan")
    assert info.hooks == ("qingdan_campaign", "qingdan_checks", "qingdan_projections", "qingdan_targets")
    assert info.campaign is None, "campaign ids come from the catalogue, not a bare manager listing"
    with use_plugins(load=["hazchem"]):
        [listed] = list_plugins()
    assert listed.campaign == "hazchem" and listed.distribution == "qingdan"


def test_extra_plugins_have_no_distribution_version():
    with use_plugins(DuplicateFire(), load=()):
        [info] = list_plugins()
    assert info.name == "DuplicateFire" and info.version is None and info.campaign == "fire"


def test_catalogue_lookups_name_the_known_ids():
    """An unknown campaign is a mistake in a command, the same error wherever it is looked up."""
    catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=["fire"]))
    assert catalogue.campaign("fire").name == "消防安全专项整治"
    with pytest.raises(InvalidCommand, match="未知的专项“gasx”.*fire（消防安全专项整治）"):
        catalogue.campaign("gasx")
    with pytest.raises(NotFound, match="fire.hazards_by_category"):
        catalogue.projection("nope")


def test_unit_attributes_merge_and_conflicts_are_reported():
    class Conflicting:
        @hookimpl
        def qingdan_campaign(self):
            return campaign("conflict", unit_attributes=(AttributeSpec(name="重大危险源", type="int"),))

    catalogue = Catalogue.from_plugin_manager(
        create_plugin_manager(load=["hazchem", "transport", "enterprise"], extra=[Conflicting()])
    )
    merged = catalogue.unit_attributes()
    assert merged["重大危险源"].type == "bool"
    assert merged["风险等级"].choices == ("红", "橙", "黄", "蓝")
    assert [p.plugin for p in catalogue.errors] == ["Conflicting"]
    assert "重大危险源" in catalogue.errors[0].message


def test_tasks_are_catalogued_with_globally_unique_ids():
    catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=None))
    campaign_tasks = sum(len(c.tasks) for c in catalogue.campaigns.values())
    assert len(catalogue.tasks) == campaign_tasks
    assert catalogue.tasks["hazchem.15"].due == date(2021, 6, 30)


def test_core_never_names_a_campaign():
    import inspect

    from qingdan.core import hookspecs, targets

    for module in (plugins, targets, hookspecs):
        source = inspect.getsource(module)
        for campaign_id in BUILT_INS - {"general"}:
            assert f'"{campaign_id}"' not in source, (module.__name__, campaign_id)
