"""The shape of the code, checked: the import contract, sizes a newcomer can read, and a facade whose
methods show their real parameters — the names of the public API."""

from __future__ import annotations

import ast
import inspect
import pathlib
import shutil
import subprocess
import sys

import pytest

import qingdan
from qingdan.core import commands as cmd
from qingdan.core.ledger import Ledger

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMMON = ["on", "actor", "note"]

# The public command API: (subject, keyword parameters), as docs/architecture.md lists it.
COMMANDS = {
    "report_hazard": (None, ["campaign", "unit", "description", "level", "found_on", "category",
                             "village", "location", "source", "inspectors", "unit_number"]),
    "plan_rectification": ("number", ["responsible_unit", "responsible_person", "measures", "funds",
                                      "deadline", "contingency", "deadline_working_days"]),
    "escalate": ("number", ["supervisor", "level", "doc_no"]),
    "request_extension": ("number", ["deadline", "reason", "deadline_working_days"]),
    "decide_extension": ("number", ["approved"]),
    "report_progress": ("number", ["text"]),
    "complete_rectification": ("number", ["cost"]),
    "verify": ("number", ["passed", "inspector", "method"]),
    "close": ("number", []),
    "reopen": ("number", ["reason"]),
    "attach": ("number", ["path", "data", "name", "kind"]),
    "recheck": ("number", ["passed", "inspector", "method"]),
    "correct": ("number", ["field", "value", "reason"]),
    "withdraw": ("number", ["reason"]),
    "add_measure": (None, ["campaign", "title", "department", "kind", "due"]),
    "issue_measure": ("number", ["doc_no"]),
    "implement_measure": ("number", []),
    "revise_measure": ("number", ["reason", "title", "doc_no"]),
    "repeal_measure": ("number", ["reason"]),
    "report_task_progress": ("task_id", ["text", "percent", "period"]),
    "complete_task": ("task_id", ["period"]),
    "register_unit": (None, ["name", "kind", "village", "credit_code", "attributes"]),
    "set_unit_attributes": ("number", ["attributes"]),
    "close_unit": ("number", ["reason"]),
    "record_indicator": ("target_id", ["value"]),
    "submit_report": (None, ["period", "campaign", "as_of", "resubmit_reason"]),
    "set_profile": (None, ["name", "unit", "reviewer", "preparer", "phone", "departments"]),
}
QUERIES = {
    "two_lists": ["as_of", "known_at", "campaign", "department", "village"],
    "hazard": ["as_of", "known_at"], "measure": ["as_of", "known_at"], "overdue": ["as_of", "known_at"],
    "stats": ["as_of", "known_at"], "targets": ["as_of", "known_at"], "findings": ["as_of", "known_at"],
    "tasks": ["as_of", "known_at"], "units": ["as_of", "known_at"], "projection": ["as_of", "known_at"],
    "reports": ["period", "campaign"], "report_diff": ["campaign", "submission"],
    "due_soon": ["within_days", "as_of", "known_at"], "profile": ["as_of", "known_at"],
}
DEFAULTS = {("report_hazard", "level"): "一般", ("report_hazard", "source"): "自查",
            ("escalate", "level"): "镇", ("verify", "method"): "政府验收", ("add_measure", "kind"): "制度",
            ("recheck", "method"): "现场复查",
            ("report_hazard", "inspectors"): ()}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_shows_its_real_parameters(name):
    subject, keywords = COMMANDS[name]
    signature = inspect.signature(getattr(Ledger, name))
    params = list(signature.parameters.values())[1:]  # after self
    if subject is not None:
        assert (params[0].name, params[0].kind) == (subject, inspect.Parameter.POSITIONAL_ONLY)
        params = params[1:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    names = [p.name for p in params]
    assert set(keywords + COMMON) <= set(names), set(keywords + COMMON) - set(names)
    for (command, key), default in DEFAULTS.items():
        if command == name:
            assert signature.parameters[key].default == default
    # the parameters are the command model's fields, not a hand-written copy
    model = getattr(Ledger, name).command_model
    extra = {"prepare"} if name == "submit_report" else set()
    assert set(names) - extra == set(model.model_fields)


def test_help_shows_the_parameters_of_a_command():
    import pydoc

    text = pydoc.render_doc(Ledger.escalate, renderer=pydoc.plaintext)
    assert "escalate(self, number: str, /, *, supervisor: str" in text
    assert "doc_no: str | None = None" in text and "**kwargs" not in text


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_each_query_takes_its_keywords(name):
    signature = inspect.signature(getattr(Ledger, name))
    for keyword in QUERIES[name]:
        assert signature.parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY


def test_keyword_mistakes_are_clerks_errors_not_type_errors(tmp_path):
    with qingdan.open_ledger(str(tmp_path / "l.db")) as ledger:
        with pytest.raises(qingdan.InvalidCommand, match="不是这个命令的参数"):
            ledger.report_hazard(campaign="fire", unit="甲", description="乙", colour="red")
        with pytest.raises(qingdan.InvalidCommand, match="必须填写"):
            ledger.add_measure(campaign="fire", title="值班制度")


def test_the_facade_exposes_no_infrastructure():
    public = {n for n in dir(Ledger) if not n.startswith("_")}
    assert not public & {"app", "view", "store", "recorder"}


def test_every_command_model_is_used_by_the_facade():
    models = {m for m in vars(cmd).values()
              if isinstance(m, type) and issubclass(m, cmd.Command) and m is not cmd.Command}
    used = {getattr(Ledger, name).command_model for name in COMMANDS}
    assert models == used


def _sizes():
    for path in sorted((ROOT / "qingdan").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        yield path, path.read_text(encoding="utf-8").count("\n"), [
            (node.name, node.end_lineno - node.lineno + 1)
            for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]


def test_no_core_or_io_module_is_too_long_to_read_and_no_class_is_a_god_object():
    layers = [(p, n, classes) for p, n, classes in _sizes() if {"core", "io"} & set(p.parts)]
    long_modules = [(p.name, n) for p, n, _ in layers if n > 650]
    big_classes = [(p.name, c, n) for p, _, classes in layers for c, n in classes if n > 400]
    assert long_modules == [] and big_classes == []


@pytest.mark.skipif(shutil.which("lint-imports", path=str(pathlib.Path(sys.executable).parent)) is None,
                    reason="import-linter is installed by `make test`")
def test_the_import_contract_is_kept():
    """The layers of pyproject.toml's [tool.importlinter]: nothing in core imports the facade, the
    campaign plugins do not import each other."""
    tool = pathlib.Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(tool)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout
