"""The hooks a qingdan campaign plugin implements (docs/plugin-guide.md).

Every hook but one takes no arguments and is called once per plugin when the plugin catalogue is
built (:func:`qingdan.core.plugins.get_catalogue`), lazily, the first time a command or query needs
the campaigns. ``qingdan_reminders(notices)`` is the exception: it is called when reminders are sent
(``qingdan remind --send``). A plugin implements any subset of them. Results are collected per plugin,
so an id that two plugins both declare is reported with both plugin names, and a hook that raises is
reported with its plugin's name while the other plugins still load (or still send).
"""

from __future__ import annotations

import pluggy

from .rows import ReminderNotice
from .spec import Campaign, Check, DeadlineRule, Projection, Target

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


@hookspec
def qingdan_deadline_rules() -> list[DeadlineRule]:
    """Return this plugin's 时限规则: what must be done within so many working days of a hazard's date.

    Called once per plugin when the catalogue is built. Each :class:`~qingdan.core.spec.DeadlineRule`
    names its campaign, the hazards it ``applies_to``, the ``working_days`` (counted by the official
    holiday arrangements, 调休 included), the date field it runs ``from_field`` and ``what`` must be
    done (``five_in_place``: the 五到位 plan; ``progress``: a progress report every so many working
    days), and cites its clause; a number the clause does not state carries its reason in
    ``inferred``. The catalogue turns each rule into the check of the same id.

    An empty list (or ``None``) means the plugin declares no deadline rules. Rule ids share the
    namespace of check ids and must be unique across all plugins.
    """


@hookspec
def qingdan_reminders(notices: list[ReminderNotice]) -> str | None:
    """Send reminder notices off the machine (SMS, WeChat Work, e-mail …).

    Called once per plugin each time reminders are sent (``qingdan remind --send``,
    :meth:`~qingdan.core.plugins.Catalogue.send_reminders`), not when the catalogue is built, with
    every :class:`~qingdan.core.rows.ReminderNotice` of the run: one per responsible department, its
    overdue and soon-due items and the ``text`` to send. Return one line saying what was sent (``已发送
    短信 3 条``). ``None`` means this plugin sent nothing (not configured, or nothing to send). A hook
    that raises is reported with its plugin's name and the other plugins still send. Nothing is sent
    unless a plugin implements this hook and is configured to.
    """
