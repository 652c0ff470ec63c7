"""The plugin manager and the catalogue of what the loaded plugins contribute.

Built-in campaigns are ordinary plugins registered under the ``qingdan`` entry-point group, loaded
through the same path as third-party packages. The manager is built in one function
(:func:`create_plugin_manager`), lazily and once (:func:`get_plugin_manager`);
``QINGDAN_LOAD_PLUGINS`` (comma-separated entry-point names, empty = none) limits what loads.

The :class:`Catalogue` calls each plugin's hooks separately, so that a duplicate id names both plugins
and a hook that raises names its plugin while every other plugin still loads. Core code never names a
campaign: it only ever sees what the catalogue collected.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import inspect
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .errors import InvalidCommand, NotFound, PluginError, show
from .rows import ReminderNotice
from .spec import AttributeSpec, Campaign, Check, DeadlineRule, Projection, Target, TaskSpec

ENTRY_POINT_GROUP = "qingdan"
LOAD_PLUGINS_ENV = "QINGDAN_LOAD_PLUGINS"
HOOK_PREFIX = "qingdan_"
HOOK_NAMES = ("qingdan_campaign", "qingdan_targets", "qingdan_checks", "qingdan_projections",
              "qingdan_deadline_rules", "qingdan_reminders")

_UNSET: Any = object()


class QingdanPluginManager(pluggy.PluginManager):
    """A pluggy manager that, like pytest's, also treats undecorated ``qingdan_*`` functions as hooks.

    That way a misspelt hook (``qingdan_target``) is caught by ``check_pending`` whether or not its
    author remembered ``@hookimpl``.
    """

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> pluggy.HookimplOpts | None:
        if not name.startswith(HOOK_PREFIX) and not hasattr(getattr(plugin, name, None), f"{self.project_name}_impl"):
            return None  # not a hook by name nor marked as one: pluggy's own look at every name a
            #              plugin module holds (its imports too) was a third of loading the plugins
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(HOOK_PREFIX):
            if inspect.isroutine(getattr(plugin, name, None)):
                return pluggy.HookimplOpts(
                    wrapper=False,
                    hookwrapper=False,
                    optionalhook=False,
                    tryfirst=False,
                    trylast=False,
                    specname=None,
                )
        return opts


def _names_from_env() -> list[str] | None:
    raw = os.environ.get(LOAD_PLUGINS_ENV)
    if raw is None:
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


def _installed_entry_points() -> list[importlib.metadata.EntryPoint]:
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault(entry_point.name, entry_point)
    return sorted(seen.values(), key=lambda ep: ep.name)


def plugin_display_name(pm: pluggy.PluginManager, plugin: Any) -> str:
    """The name a person reads for ``plugin``: its registered name, else its module or class."""
    name = pm.get_name(plugin)
    if name and not name.isdigit():
        return name
    return getattr(plugin, "__name__", None) or type(plugin).__name__


def create_plugin_manager(
    load: Iterable[str] | None = _UNSET, extra: Iterable[Any] = ()
) -> QingdanPluginManager:
    """Build a fresh plugin manager.

    ``load`` is the entry-point names to load: ``None`` loads every installed ``qingdan`` entry point;
    an empty iterable loads none; left out, it is read from ``QINGDAN_LOAD_PLUGINS`` (unset = all).
    ``extra`` are plugin objects (modules or instances) registered directly, without entry points — for
    hosts and tests. A name in ``load`` that is not installed, a plugin that fails to import, and a
    misspelt hook are rejected with :class:`PluginError` naming the plugin.
    """
    names = _names_from_env() if load is _UNSET else (None if load is None else list(load))
    pm = QingdanPluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    available = {ep.name: ep for ep in _installed_entry_points()}
    wanted = sorted(available) if names is None else names
    for name in wanted:
        if name not in available:
            raise PluginError(
                f"插件“{name}”未安装（{LOAD_PLUGINS_ENV} 中指定）；已安装：{'、'.join(sorted(available)) or '无'}"
            )
        try:
            # What pluggy's load_setuptools_entrypoints(group, name) does, without reading every
            # installed distribution's metadata again for each name (≈5 ms a name at start-up).
            entry_point = available[name]
            if not pm.has_plugin(name) and not pm.is_blocked(name):
                plugin = entry_point.load()
                pm.register(plugin, name=name)
                pm._plugin_distinfo.append((plugin, entry_point.dist))  # what list_plugin_distinfo reads
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"插件“{name}”无效：{exc}") from exc
        except Exception as exc:  # an import error in a third-party plugin
            raise PluginError(f"插件“{name}”加载失败：{type(exc).__name__}: {exc}") from exc
    for plugin in extra:
        try:
            pm.register(plugin)
        except ValueError as exc:  # already registered
            raise PluginError(f"插件“{getattr(plugin, '__name__', plugin)}”重复注册：{exc}") from exc
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"插件“{plugin_display_name(pm, exc.plugin)}”无效：{exc}"
            ) from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(
            f"插件“{plugin_display_name(pm, exc.plugin)}”实现了未知的钩子：{exc}"
            f"（可用钩子：{', '.join(HOOK_NAMES)}）"
        ) from exc
    return pm


_lock = threading.RLock()
_manager: QingdanPluginManager | None = None
_catalogue: Catalogue | None = None


def get_plugin_manager() -> QingdanPluginManager:
    """The process-wide plugin manager, built on first use and then reused."""
    global _manager
    with _lock:
        if _manager is None:
            _manager = create_plugin_manager()
        return _manager


def get_catalogue() -> Catalogue:
    """The catalogue of the process-wide plugin manager, built on first use and then reused."""
    global _catalogue
    with _lock:
        if _catalogue is None:
            _catalogue = Catalogue.from_plugin_manager(get_plugin_manager())
        return _catalogue


def reset_plugin_manager() -> None:
    """Forget the cached manager and catalogue so the next use rebuilds them (for tests)."""
    global _manager, _catalogue
    with _lock:
        _manager = None
        _catalogue = None


@contextlib.contextmanager
def use_plugins(
    *extra: Any, load: Iterable[str] | None = _UNSET
) -> Iterator[Catalogue]:
    """Within the block, the process-wide manager is a fresh one with ``extra`` plugins added.

    ``load`` is as for :func:`create_plugin_manager`. On exit the previous manager and catalogue come
    back, so registrations never leak between tests::

        with use_plugins(my_plugin_module, load=["my_campaign"]) as catalogue:
            ...
    """
    global _manager, _catalogue
    pm = create_plugin_manager(load=load, extra=extra)
    catalogue = Catalogue.from_plugin_manager(pm)
    with _lock:
        saved = (_manager, _catalogue)
        _manager, _catalogue = pm, catalogue
    try:
        yield catalogue
    finally:
        with _lock:
            _manager, _catalogue = saved


@dataclass(frozen=True)
class PluginProblem:
    """A plugin hook that raised or returned something that is not what its contract says."""

    plugin: str
    hook: str
    message: str

    def __str__(self) -> str:
        return f"插件“{self.plugin}”的 {self.hook} 出错：{self.message}"


@dataclass(frozen=True)
class PluginInfo:
    """One loaded plugin as ``qingdan plugins`` lists it."""

    name: str
    version: str | None
    hooks: tuple[str, ...]
    campaign: str | None
    distribution: str | None = None


_KINDS = {
    "campaign": "战役",
    "task": "重点任务",
    "target": "整治目标",
    "check": "检查规则",
    "projection": "专题表",
    "deadline_rule": "时限规则",
}


@dataclass
class Catalogue:
    """Everything the loaded plugins contribute, keyed by id, with the plugin that owns each id.

    Build it with :meth:`from_plugin_manager`. A duplicate id raises :class:`PluginError` naming both
    plugins; a hook that raises, or returns the wrong type, is kept in :attr:`errors` and the rest of
    the catalogue stays usable.
    """

    campaigns: dict[str, Campaign] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)
    projections: dict[str, Projection] = field(default_factory=dict)
    deadline_rules: dict[str, DeadlineRule] = field(default_factory=dict)
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    errors: list[PluginProblem] = field(default_factory=list)
    _plugins: list[PluginInfo] | None = field(default=None, repr=False, compare=False)
    _attribute_specs: dict[str, AttributeSpec] | None = field(default=None, repr=False, compare=False)
    #: the plugin manager it was built from (``send_reminders`` calls its plugins); None when built by hand
    manager: pluggy.PluginManager | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_plugin_manager(cls, pm: pluggy.PluginManager) -> Catalogue:
        catalogue = cls()
        for impl in _impls(pm, "qingdan_campaign"):
            result = catalogue._call(pm, impl, "qingdan_campaign")
            if result is _FAILED or result is None:
                continue
            name = plugin_display_name(pm, impl.plugin)
            if not isinstance(result, Campaign):
                catalogue._problem(name, "qingdan_campaign", f"应返回 Campaign，实际为 {type(result).__name__}")
                continue
            catalogue._add("campaign", result.id, result, catalogue.campaigns, name)
            for task in result.tasks:
                catalogue._add("task", task.id, task, catalogue.tasks, name)
        for hook, kind, model, store in (
            ("qingdan_targets", "target", Target, catalogue.targets),
            ("qingdan_checks", "check", Check, catalogue.checks),
            ("qingdan_projections", "projection", Projection, catalogue.projections),
            ("qingdan_deadline_rules", "deadline_rule", DeadlineRule, catalogue.deadline_rules),
        ):
            for impl in _impls(pm, hook):
                result = catalogue._call(pm, impl, hook)
                if result is _FAILED or result is None:
                    continue
                name = plugin_display_name(pm, impl.plugin)
                if isinstance(result, model | str | bytes) or not isinstance(result, Iterable):
                    catalogue._problem(name, hook, f"应返回 {model.__name__} 列表，实际为 {type(result).__name__}")
                    continue
                for item in result:
                    if not isinstance(item, model):
                        catalogue._problem(name, hook, f"列表中有非 {model.__name__} 对象：{item!r}")
                        continue
                    catalogue._add(kind, item.id, item, store, name)
                    if isinstance(item, DeadlineRule):  # a rule is enforced as the check of its id
                        catalogue._add("check", item.id, item.check(), catalogue.checks, name)
        catalogue.manager = pm
        return catalogue

    @property
    def plugins(self) -> list[PluginInfo]:
        """Every loaded plugin with its distribution's version, read when first asked for (the
        distributions' metadata is a third of loading the plugins; a list of hazards never needs it)."""
        if self._plugins is None:
            campaign_of = {owner: key for (kind, key), owner in self.owners.items() if kind == "campaign"}
            self._plugins = list_plugins(self.manager, campaign_of=campaign_of) if self.manager is not None else []
        return self._plugins

    def _call(self, pm: pluggy.PluginManager, impl: pluggy.HookImpl, hook: str) -> Any:
        try:
            return impl.function()
        except Exception as exc:
            self._problem(plugin_display_name(pm, impl.plugin), hook, f"{type(exc).__name__}: {exc}")
            return _FAILED

    def _problem(self, plugin: str, hook: str, message: str) -> None:
        self.errors.append(PluginProblem(plugin, hook, message))

    def _add(self, kind: str, key: str, item: Any, store: dict[str, Any], plugin: str) -> None:
        owner = self.owners.get((kind, key))
        if owner is not None:
            raise PluginError(
                f"{_KINDS[kind]} id “{key}” 重复：插件“{owner}”与插件“{plugin}”都声明了它"
            )
        self.owners[(kind, key)] = plugin
        store[key] = item

    def send_reminders(self, notices: Sequence[ReminderNotice]) -> tuple[list[tuple[str, str]], list[PluginProblem]]:
        """Hand ``notices`` to every plugin's ``qingdan_reminders``; (plugin, what it says it sent) for
        each that sent something, and the problems of those that raised (the others still send)."""
        sent: list[tuple[str, str]] = []
        problems: list[PluginProblem] = []
        if self.manager is None:
            return sent, problems
        for impl in _impls(self.manager, "qingdan_reminders"):
            name = plugin_display_name(self.manager, impl.plugin)
            try:
                # pluggy lets an implementation take fewer arguments than the spec
                result = impl.function(**({"notices": list(notices)} if "notices" in impl.argnames else {}))
            except Exception as exc:
                problems.append(PluginProblem(name, "qingdan_reminders", f"{type(exc).__name__}: {exc}"))
                continue
            if result is not None:
                sent.append((name, str(result)))
        return sent, problems

    # -- look-ups -------------------------------------------------------------------------------

    def owner(self, kind: str, key: str) -> str | None:
        """The plugin that declared ``key`` (kind: campaign, task, target, check, projection,
        deadline_rule)."""
        return self.owners.get((kind, key))

    def campaign(self, campaign_id: str) -> Campaign:
        """The campaign of that id; an unknown one is a mistake in the command (:class:`InvalidCommand`)."""
        try:
            return self.campaigns[campaign_id]
        except (KeyError, TypeError):
            known = "、".join(f"{c.id}（{c.name}）" for c in self.campaigns.values()) or "（未加载任何专项插件）"
            raise InvalidCommand(f"未知的专项“{show(campaign_id)}”。可用的专项：{known}") from None

    def projection(self, projection_id: str) -> Projection:
        try:
            return self.projections[projection_id]
        except KeyError:
            known = "、".join(sorted(self.projections)) or "无"
            raise NotFound(f"未找到专题表“{projection_id}”；可用：{known}") from None

    def targets_of(self, campaign: str | None = None) -> list[Target]:
        return [t for t in self.targets.values() if campaign is None or t.campaign == campaign]

    def checks_of(self, campaign: str | None = None) -> list[Check]:
        return [c for c in self.checks.values() if campaign is None or c.campaign == campaign]

    def tasks_of(self, campaign: str | None = None) -> list[TaskSpec]:
        return [t for t in self.tasks.values() if campaign is None or t.campaign == campaign]

    def check_unit_attributes(self, attributes: dict[str, Any], *, allow_none: bool) -> dict[str, Any]:
        """Unit attributes coerced to their declared types (the one copy of this rule, for commands
        and for filters); an undeclared name or a value of the wrong type is :class:`InvalidCommand`.
        ``allow_none``: keep ``None`` values (an attribute removed, or a filter "without it")."""
        if self._attribute_specs is None:
            self._attribute_specs = self.unit_attributes()
        specs = self._attribute_specs
        checked: dict[str, Any] = {}
        for name, value in attributes.items():
            spec = specs.get(name)
            if spec is None:
                known = "、".join(sorted(specs)) or "（无）"
                raise InvalidCommand(f"未知的单位属性“{show(name)}”。各专项声明的属性：{known}")
            if value is None:
                if allow_none:
                    checked[name] = None
                continue
            try:
                checked[name] = spec.validate_value(value)
            except ValueError as error:
                raise InvalidCommand(str(error)) from None
        return checked

    def unit_attributes(self) -> dict[str, AttributeSpec]:
        """Every unit attribute the campaigns declare, by name.

        Two campaigns may declare the same attribute (e.g. ``重大危险源``) if they agree on its type
        and choices; a disagreement is recorded in :attr:`errors` and the first declaration wins.
        """
        merged: dict[str, AttributeSpec] = {}
        declared_by: dict[str, str] = {}
        for campaign in self.campaigns.values():
            for attribute in campaign.unit_attributes:
                first = merged.get(attribute.name)
                if first is None:
                    merged[attribute.name] = attribute
                    declared_by[attribute.name] = campaign.id
                elif (first.type, first.choices) != (attribute.type, attribute.choices):
                    self._problem(
                        self.owner("campaign", campaign.id) or campaign.id,
                        "qingdan_campaign",
                        f"单位属性“{attribute.name}”的类型与专项“{declared_by[attribute.name]}”的声明不一致",
                    )
                else:
                    kinds = tuple(dict.fromkeys(first.unit_kinds + attribute.unit_kinds))
                    if first.unit_kinds and attribute.unit_kinds:
                        merged[attribute.name] = first.model_copy(update={"unit_kinds": kinds})
                    elif not attribute.unit_kinds:
                        merged[attribute.name] = first.model_copy(update={"unit_kinds": ()})
        return merged


_FAILED: Any = object()


def _impls(pm: pluggy.PluginManager, hook: str) -> Sequence[pluggy.HookImpl]:
    caller = getattr(pm.hook, hook, None)
    if caller is None:
        return ()
    # Registration order (pluggy calls them in reverse; we want the load order people expect).
    return [impl for impl in caller.get_hookimpls() if not (impl.wrapper or impl.hookwrapper)]


def list_plugins(
    pm: pluggy.PluginManager | None = None, *, campaign_of: dict[str, str] | None = None
) -> list[PluginInfo]:
    """Name, distribution version, implemented hooks and campaign id of every loaded plugin.

    Without a manager, lists the process-wide one (and takes campaign ids from its catalogue).
    """
    if pm is None:
        return list(get_catalogue().plugins)
    campaign_of = campaign_of or {}
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos = []
    for _name, plugin in sorted(pm.list_name_plugin(), key=lambda pair: str(pair[0])):
        if plugin is None:  # blocked
            continue
        hooks = tuple(
            sorted(caller.name for caller in (pm.get_hookcallers(plugin) or ()))
        )
        display = plugin_display_name(pm, plugin)
        dist = dists.get(id(plugin))
        infos.append(
            PluginInfo(
                name=display,
                version=dist.version if dist is not None else None,
                hooks=hooks,
                campaign=campaign_of.get(display),
                distribution=dist.project_name if dist is not None else None,
            )
        )
    return infos
