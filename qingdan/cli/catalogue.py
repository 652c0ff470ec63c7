"""``qingdan campaigns`` and ``qingdan plugins``: what the installed plugins contribute."""

from __future__ import annotations

import typer

from qingdan.cli.common import Format, Output
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet

CAMPAIGN_COLUMNS = columns("id:专项:12", "name:名称:36", "kind:类型:4", "lead_departments:牵头部门:20",
                           "start:开始", "end:结束", "tasks:重点任务:6", "targets:整治目标:6", "checks:检查规则:6",
                           "projections:专题表:6", "source:依据:10")
PLUGIN_COLUMNS = columns("name:插件:14", "version:版本:8", "distribution:发行包:16", "campaign:专项:12",
                         "hooks:钩子:60")


def _catalogue():
    from qingdan.core.plugins import get_catalogue

    return get_catalogue()


def campaigns(fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """已加载的专项（专题）— the campaigns of the installed plugins."""
    catalogue = _catalogue()
    rows = []
    for c in catalogue.campaigns.values():
        rows.append({"id": c.id, "name": c.name, "kind": c.kind, "lead_departments": list(c.lead_departments),
                     "departments": list(c.departments), "start": c.start, "end": c.end,
                     "tasks": len(c.tasks), "targets": len(catalogue.targets_of(c.id)),
                     "checks": len(catalogue.checks_of(c.id)),
                     "projections": sum(p.campaign == c.id for p in catalogue.projections.values()),
                     "hazard_categories": list(c.hazard_categories), "source": c.source,
                     "plugin": catalogue.owner("campaign", c.id)})
    for problem in catalogue.errors:
        message(f"{problem}", style="yellow")
    emit(fmt, output, [records_sheet("campaigns", "专项整治", CAMPAIGN_COLUMNS, rows)], rows)


def plugins(fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """已安装的插件：名称、版本、钩子、专项 — installed plugins with version, hooks and campaign."""
    catalogue = _catalogue()
    rows = [{"name": p.name, "version": p.version, "hooks": list(p.hooks), "campaign": p.campaign,
             "distribution": p.distribution} for p in catalogue.plugins]
    for problem in catalogue.errors:
        message(f"{problem}", style="yellow")
    emit(fmt, output, [records_sheet("plugins", "插件", PLUGIN_COLUMNS, rows)], rows)


def register(app: typer.Typer) -> None:
    app.command("campaigns")(campaigns)
    app.command("plugins")(plugins)
