"""The ``qingdan`` command line: one typer app, one module per noun.

Errors: a :class:`~qingdan.QingdanError` (a rejected command) becomes one line ``错误：…`` on stderr
and exit 1; any other failure one line and exit 1; a usage error (an option missing or mistyped) three
lines in Chinese and exit 2 (:func:`show_usage_error`); click's and typer's own words in help are
Chinese too (:func:`chinese_help`). Tracebacks only with ``QINGDAN_DEBUG=1``.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from typing import Annotated, Any

import typer
from typer._click import exceptions as ce
from typer._click.utils import PacifyFlushWrapper
from typer.core import TyperArgument, TyperGroup, TyperOption

from qingdan.core.errors import QingdanError


def _say(text: str) -> None:
    """One message on stderr: bounded, and no control or format character reaches the terminal raw."""
    from .output import terminal_text

    typer.echo(terminal_text(text), err=True)


def _debug() -> bool:
    return os.environ.get("QINGDAN_DEBUG") == "1"


# -- usage errors and help in Chinese ---------------------------------------------------------------

#: click's and typer's own words (help panels, the help option, defaults), as a clerk reads them.
CLICK_WORDS = {
    "Show this message and exit.": "显示本帮助并退出 — show this message and exit.",
    "Usage:": "用法：",
    "Options": "选项 Options",
    "Commands": "命令 Commands",
    "Arguments": "参数 Arguments",
    "Positional arguments": "参数",
    "Error": "错误",
    "Aborted!": "已取消。",
    "Aborted.": "已取消。",
    "[default: {}]": "[默认：{}]",
    "[env var: {}]": "[环境变量：{}]",
    "[required]": "[必填]",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "(deprecated) ": "（已停用）",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "查看帮助：[blue]{command_path} {help_option}[/]",
}

_installed = False


def _zh(message: str) -> str:
    return CLICK_WORDS.get(message, message)


def chinese_help() -> None:
    """Put :data:`CLICK_WORDS` into the help typer prints (once per process).

    typer carries its own copy of click (``typer._click``) whose help option and usage prefix are
    fixed English strings: the help option gets a Chinese ``help`` and the usage line ``用法：``.
    """
    global _installed
    if _installed:
        return
    _installed = True
    from typer import rich_utils
    from typer._click import core, formatting

    english = {"ARGUMENTS_PANEL_TITLE": "Arguments", "OPTIONS_PANEL_TITLE": "Options",
               "COMMANDS_PANEL_TITLE": "Commands", "ERRORS_PANEL_TITLE": "Error",
               "ABORTED_TEXT": "Aborted.", "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
               "DEFAULT_STRING": "[default: {}]", "ENVVAR_STRING": "[env var: {}]",
               "REQUIRED_LONG_STRING": "[required]", "DEPRECATED_STRING": "(deprecated) "}
    for name, words in english.items():
        setattr(rich_utils, name, CLICK_WORDS[words])
    parameter_help = rich_utils._get_parameter_help

    def folded_parameter_help(**kwargs: Any) -> Any:
        """An option's help as one text that folds (typer's Columns cut Chinese short with …)."""
        from rich.text import Text

        shown = parameter_help(**kwargs)
        parts = getattr(shown, "renderables", None)
        if not parts or not all(isinstance(p, Text) for p in parts):
            return shown
        text = Text(" ").join(parts)
        text.overflow = "fold"
        return text

    rich_utils._get_parameter_help = folded_parameter_help

    help_option = core.Command.get_help_option

    def chinese_help_option(self: Any, ctx: Any) -> Any:
        option = help_option(self, ctx)
        if option is not None:
            option.help = CLICK_WORDS["Show this message and exit."]
        return option

    write_usage = formatting.HelpFormatter.write_usage

    def chinese_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, _usage_words(args), "用法：" if prefix is None else prefix)

    core.Command.get_help_option = chinese_help_option  # type: ignore[method-assign]
    formatting.HelpFormatter.write_usage = chinese_usage  # type: ignore[method-assign]


def _usage_words(usage: str) -> str:
    """``[OPTIONS] {NUMBER}`` → ``[选项] NUMBER``."""
    usage = re.sub(r"\{([A-Za-z_|]+)\}", r"\1", usage).replace("[OPTIONS]", "[选项]")
    return usage.replace("COMMAND [ARGS]...", "命令 [参数]...")


def _option_name(param: Any) -> str:
    if param is None:
        return ""
    if isinstance(param, TyperOption):
        name = max(param.opts, key=len)
        return f"{name}/{max(param.secondary_opts, key=len)}" if param.secondary_opts else name
    return (param.metavar or param.name or "").strip("{}").upper()


def _option_label(param: Any) -> str:
    """The Chinese half of an option's help: ``验收人 — inspector`` → ``验收人``."""
    text = re.split(r"\s*—\s*", getattr(param, "help", None) or "", maxsplit=1)[0]
    text = re.split(r"[：:，,]", text, maxsplit=1)[0].strip()
    return text if text and re.search(r"[\u4e00-\u9fff]", text) else ""


def _named(param: Any) -> str:
    label = _option_label(param)
    return f"{_option_name(param)}（{label}）" if label else _option_name(param)


#: pydantic's reasons (typer converts option values with it), by error type.
VALUE_REASONS = {
    "float_parsing": "应填数字，如 1.5", "float_type": "应填数字，如 1.5",
    "int_parsing": "应填整数，如 8", "int_type": "应填整数，如 8", "int_from_float": "应填整数，如 8",
    "bool_parsing": "应填 是/否（true/false）", "date_parsing": "应填日期，如 2020-09-01",
    "date_from_datetime_parsing": "应填日期，如 2020-09-01",
    "finite_number": "应填有限的数字", "greater_than_equal": "数值太小", "less_than_equal": "数值太大",
}

_CLICK_REASONS = (
    (re.compile(r"^Option '(.+)' requires an argument\.?$"), "选项 {0} 后面要写一个值"),
    (re.compile(r"^Option '(.+)' requires (\d+) arguments\.?$"), "选项 {0} 后面要写 {1} 个值"),
    (re.compile(r"^Option '(.+)' does not take a value\.?$"), "选项 {0} 后面不写值"),
    (re.compile(r"^Got unexpected extra argument(?:s|\(s\))? \((.+)\)$"), "多余的参数：{0}（含空格的文字请加引号）"),
    (re.compile(r"^No such command '(.+)'\. Did you mean '(.+)'\?$"), "没有命令 {0}；是不是 {1}？"),
    (re.compile(r"^No such command '(.+)'\.?$"), "没有命令 {0}"),
    (re.compile(r"^Missing command\.?$"), "缺少命令"),
    (re.compile(r"^'(.+)' is not one of (.+)\.$"), "“{0}”不在可选值中"),
    (re.compile(r"^'(.+)' is not (.+)\.$"), "“{0}”不是 {1}"),
    (re.compile(r"^(.+) is not a valid (.+)\.?$"), "{0} 不是有效的 {1}"),
)


def _reason(error: ce.ClickException, argv: list[str] | None = None) -> str:
    """What is wrong, in Chinese (every required option missing from ``argv``, not just the first)."""

    if isinstance(error, ce.MissingParameter):
        kind = "参数" if isinstance(error.param, TyperArgument) else "选项"
        missing = [error.param]
        if kind == "选项" and error.ctx is not None and argv is not None:
            missing += [p for p in error.ctx.command.params if p is not error.param and _absent(p, argv)]
        return f"缺少{kind} " + "、".join(_named(p) for p in missing)
    if isinstance(error, ce.NoSuchOption):
        hint = f"；是不是 {'、'.join(sorted(error.possibilities))}？" if error.possibilities else ""
        return f"没有选项 {error.option_name}{hint}"
    if isinstance(error, ce.BadParameter):
        cause = error.__cause__
        if cause is not None and hasattr(cause, "errors"):
            first = (cause.errors() or [{}])[0]
            kind = first.get("type", "")
            if kind == "enum":
                expected = str(first.get("ctx", {}).get("expected", "")).replace("'", "")
                reason = f"应为以下之一：{expected.replace(' or ', '、').replace(', ', '、')}"
            else:
                reason = VALUE_REASONS.get(kind) or _translate(
                    str(first.get("msg", error.message)).removeprefix("Value error, "))
            given = first.get("input")
            if given is not None:
                if reason.startswith("应"):
                    reason = f"“{given}”不对，{reason}"
        else:
            reason = _translate(error.message)
        return f"{_named(error.param)}的值无效：{reason}" if error.param else reason
    return _translate(error.format_message())


def _translate(message: str) -> str:
    for pattern, chinese in _CLICK_REASONS:
        found = pattern.match(message.strip())
        if found:
            text = chinese.format(*found.groups())
            if "不在可选值中" in text:
                text += "，应为 " + "、".join(re.findall(r"'([^']*)'", found.group(2))) + " 之一"
            return text
    return message


def _absent(param: Any, argv: list[str]) -> bool:
    """A required option none of whose names was typed."""
    if not isinstance(param, TyperOption) or not param.required:
        return False
    names = (*param.opts, *param.secondary_opts)
    return not any(a == n or a.startswith(n + "=") for a in argv for n in names)


def show_usage_error(error: ce.ClickException, argv: list[str] | None = None) -> None:
    """``用法：…`` / ``用法错误：…`` / ``查看帮助：… --help`` on stderr (no rich panel, no English)."""

    if isinstance(error, ce.NoArgsIsHelpError):
        chinese_help()
        error.show()
        return
    if not isinstance(error, ce.UsageError):
        _say(f"错误：{_translate(error.format_message())}")
        return
    ctx = error.ctx
    if ctx is not None:
        usage = ctx.get_usage().replace("Usage:", "用法：").replace("用法： ", "用法：")
        usage = _usage_words(usage)
        _say(usage)
    _say(f"用法错误：{_reason(error, argv)}")
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        typer.echo(f"查看帮助：{ctx.command_path} --help", err=True)


class QingdanGroup(TyperGroup):
    """The root group: turns errors into one clerk-readable line and an exit status."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Usage errors in Chinese: ``用法：…`` / ``用法错误：缺少选项 --inspector（验收人）`` / ``查看帮助：…``."""
        argv = sys.argv[1:] if args is None else list(args)
        if not argv or "--help" in argv or _bare_group(argv):  # only then: typer's help module loads rich
            chinese_help()
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ce.ClickException as error:
            if not standalone_mode:
                raise
            show_usage_error(error, argv)
            sys.exit(error.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            typer.echo("已取消。", err=True)
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # ``qingdan lists | head``: the reader has gone; nothing to say
            sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
            raise typer.Exit(1) from None
        except QingdanError as error:
            if _debug():
                raise
            _say(f"错误：{error}")
            raise typer.Exit(1) from None
        except MemoryError:
            if _debug():
                raise
            _say("错误：输入太大，内存不足，未写入任何数据。请检查输入的文字或文件")
            raise typer.Exit(1) from None
        except Exception as error:
            if _debug():
                raise
            _say(f"内部错误：{type(error).__name__}: {error}（设置 QINGDAN_DEBUG=1 查看详情）")
            raise typer.Exit(1) from None


def _root_app() -> typer.Typer:
    """The root command with its options and none of its commands (they are added by name)."""
    root = typer.Typer(
        name="qingdan",
        cls=QingdanGroup,
        help="两个清单台账：问题隐患清单与制度措施清单 — the ledger of the 安全生产专项整治 campaigns.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode="rich",
    )
    root.callback()(_root)
    return root


def _root(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="QINGDAN_DB", show_envvar=True,
        help="台账数据库：文件路径或 postgresql://… — ledger database (default ./qingdan.db)")] = None,
    actor: Annotated[str | None, typer.Option(
        "--actor", envvar="QINGDAN_ACTOR", show_envvar=True,
        help="操作人，记入每条记录 — who is acting (recorded with every event)")] = None,
    township: Annotated[str, typer.Option(
        "--township", envvar="QINGDAN_TOWNSHIP",
        help="乡镇名称，用于清单标题 — township name for list titles")] = "南阳镇",
    init: Annotated[bool, typer.Option(
        "--init", help="在 --db 处新建台账（也可在已存在的空数据库中）— create the ledger at --db")] = False,
) -> None:
    """两个清单台账 qingdan — 问题隐患清单 + 制度措施清单, as of any date."""
    from .common import Settings, township_name

    ctx.obj = Settings(db=db, actor=actor, township=township_name(township), init=init)


#: The command groups, in the order help lists them: the module that holds each (imported only
#: when that group is used: importing all nineteen modules was most of every command's start-up)
#: and the line help shows for it.
GROUPS: dict[str, tuple[str, str]] = {
    "hazard": ("hazard", "问题隐患：登记、整改、验收、销号 — hazards from report to closure."),
    "measure": ("measure", "制度措施：拟制定、印发、落实、废止 — measures."),
    "task": ("task", "重点任务：进展与完成 — the campaigns' key tasks."),
    "unit": ("unit", "监管对象：企业、场所、船舶、路段 — regulated units."),
    "indicator": ("indicator", "指标填报 — reported target values."),
    "report": ("report", "两个清单报送与回头看 — monthly submission and look-back."),
    "profile": ("profile", "乡镇信息：报表标题、填报单位与签名栏 — the township profile on the forms."),
    "attachment": ("attachments", "附件：按 SHA-256 取出 — attachments by sha256."),
    "policy": ("policy", "台账的权限配置：谁能做什么、本机账户对应谁 — the ledger's own policy."),
    "token": ("token", "HTTP API 令牌 — bearer tokens for the HTTP API (qingdan serve)."),
}

#: The top-level commands: the module whose ``register(app)`` adds each.
COMMANDS: dict[str, str] = {
    "lists": "lists", "overdue": "lists", "stats": "lists", "targets": "lists", "check": "lists",
    "projection": "lists", "remind": "remind", "import": "importer", "export": "export",
    "rebuild": "rebuild", "verify": "verify", "campaigns": "catalogue", "plugins": "catalogue",
    "demo": "demo", "serve": "serve",
}


def _module(name: str) -> Any:
    import importlib

    return importlib.import_module(f"{__name__}.{name}")


def _add_group(root: typer.Typer, word: str, command: str | None = None) -> None:
    """The group ``word``; with ``command`` one of its commands, only that one (typer builds and
    inspects every command of a group it is given)."""
    import copy

    global _attachments_on
    module_name, help_text = GROUPS[word]
    if word in ("hazard", "measure") and not _attachments_on:  # ``hazard attach`` lives in attachments
        _module("attachments").register_on(*(_module(n).app for n in ("hazard", "measure")))
        _attachments_on = True
    group = _module(module_name).app
    only = [c for c in group.registered_commands if command is not None and _command_name(c) == command]
    if only:
        group = copy.copy(group)
        group.registered_commands = only
    root.add_typer(group, name=word, help=help_text)


_attachments_on = False


def _add_commands(root: typer.Typer, module_name: str, only: str | None = None) -> None:
    _module(module_name).register(root)
    if only is not None:
        root.registered_commands = [c for c in root.registered_commands if _command_name(c) == only]


def _command_name(command: Any) -> str | None:
    from typer.main import get_command_name

    return command.name or (command.callback and get_command_name(command.callback.__name__))


_whole: typer.Typer | None = None


def _whole_app() -> typer.Typer:
    """Every group and command (help, typos, and anyone who imports ``qingdan.cli.app``)."""
    global _whole
    if _whole is None:
        whole = _root_app()
        for word in GROUPS:
            _add_group(whole, word)
        for module_name in dict.fromkeys(COMMANDS.values()):
            _add_commands(whole, module_name)
        _whole = whole
    return _whole


def __getattr__(name: str) -> Any:
    """``qingdan.cli.app``: the whole app, built on first use (PEP 562)."""
    if name == "app":
        return _whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point: known errors become one line on stderr and exit 1; tracebacks only when debugging.

    Usage errors (exit 2) and ``--help`` are handled by typer in standalone mode.
    """
    # pydantic looks for its own plugins (observability hooks) by reading every installed
    # package's entry points on the first model it builds (10–20 ms of every command).
    # The command line uses none; a host that does embeds the library, not this entry point.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # Every object the imports make lives until the process ends: collecting garbage among them
    # while importing is wasted, and so is the interpreter's last collection over them at exit
    # (about 50 ms of a 0.3 s command). The command itself runs with the collector as usual.
    gc.disable()
    try:
        command = _app_for(sys.argv[1:])
        gc.freeze()
        gc.enable()
        command()
    except QingdanError as error:
        if _debug():
            raise
        _say(f"错误：{error}")
        sys.exit(1)
    except Exception as error:
        if _debug():
            raise
        _say(f"内部错误：{type(error).__name__}: {error}（设置 QINGDAN_DEBUG=1 查看详情）")
        sys.exit(1)
    finally:
        gc.enable()
        gc.freeze()


#: The root options that take a value (the command's word comes after them).
_ROOT_VALUES = {"--db", "--actor", "--township"}


def _app_for(argv: list[str]) -> typer.Typer:
    """The app with only the command the arguments name (``qingdan hazard show …`` imports and builds
    the ``hazard`` group, not all nineteen modules and sixty commands: typer inspects every
    command's signature when it builds the tree); the whole app for ``--help``, no arguments or
    anything it does not recognise (so typos still get the whole list to choose from)."""
    word, rest = _command_word(argv)
    if word in GROUPS:
        slim = _root_app()
        _add_group(slim, word, rest[0] if rest and not rest[0].startswith("-") else None)
        return slim
    if word in COMMANDS:
        slim = _root_app()
        _add_commands(slim, COMMANDS[word], only=word)
        return slim
    return _whole_app()


def _command_word(argv: list[str]) -> tuple[str | None, list[str]]:
    """The command's first word after the root options, and what follows it (None: an option
    that is not a root one came first, or there is no word)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _ROOT_VALUES:
            i += 2
        elif arg.startswith("--") and ("=" in arg or arg == "--init"):
            i += 1
        elif arg.startswith("-"):
            return None, []
        else:
            return arg, argv[i + 1:]
    return None, []


def _bare_group(argv: list[str]) -> bool:
    """``qingdan hazard`` alone: the group prints its help (in Chinese too)."""
    word, rest = _command_word(argv)
    return word is not None and not rest and word in GROUPS
