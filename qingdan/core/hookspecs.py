"""The hooks a qingdan campaign plugin implements (docs/plugin-guide.md).

Every hook takes no arguments and is called once per plugin when the plugin catalogue is built
(:func:`qingdan.core.plugins.get_catalogue`), lazily, the first time a command or query needs the
campaigns. A plugin implements any subset of them. Results are collected per plugin, so an id that two
plugins both declare is reported with both plugin names, and a hook that raises is reported with its
plugin's name while the other plugins still load.
"""

from __future__ import annotations

import pluggy

from .spec import Campaign, Check, Projection, Target

hookspec = pluggy.HookspecMarker("qingdan")
hookimpl = pluggy.HookimplMarker("qingdan")


@hookspec
def qingdan_campaign() -> Campaign | None:
    """Return this plugin's campaign (专项, 专题 or 总体方案).

    Called once per plugin when the catalogue is built. Return one :class:`~qingdan.core.spec.Campaign`
    carrying the seed's data: lead and co-operating departments, phases, numbered 重点任务, hazard
    categories and the unit attributes the plugin's targets and checks read.

    ``None`` means the plugin declares no campaign of its own (for example a plugin that only adds a
    check to another plugin's campaign). Two plugins returning the same campaign id is an error naming
    both plugins.
    """


@hookspec
def qingdan_targets() -> list[Target]:
    """Return this plugin's 整治目标 (dated or quantitative targets).

    Called once per plugin when the catalogue is built. Each :class:`~qingdan.core.spec.Target` names
    its campaign, goal, comparator, unit and due date and cites the clause it comes from. A target with
    a ``measure(snapshot)`` is computed from the ledger; ``measure=None`` means its value is read from
    indicator readings (``record_indicator``). ``measure`` returns ``None`` when there is nothing to
    measure yet (e.g. no unit in the denominator), which the target reports as ``no_data``.

    An empty list (or ``None``) means the plugin sets no targets. Target ids must be unique across all
    plugins.
    """


@hookspec
def qingdan_checks() -> list[Check]:
    """Return this plugin's checks: rules run against a snapshot that yield findings.

    Called once per plugin when the catalogue is built. Each :class:`~qingdan.core.spec.Check` has a
    ``run(snapshot)`` returning an iterable of :class:`~qingdan.core.spec.Finding` of its own campaign;
    an empty iterable means nothing is wrong. A check that raises is reported as an error and does not
    stop the other checks.

    An empty list (or ``None``) means the plugin contributes no checks. Check ids must be unique across
    all plugins.
    """


@hookspec
def qingdan_projections() -> list[Projection]:
    """Return this plugin's projections: campaign-specific tables built from a snapshot.

    Called once per plugin when the catalogue is built. Each :class:`~qingdan.core.spec.Projection`
    declares its ``columns``; ``build(snapshot)`` yields one dict per row whose keys are exactly those
    columns. An empty build means an empty table.

    An empty list (or ``None``) means the plugin contributes no projections. Projection ids must be
    unique across all plugins.
    """
