"""Meta-tests: every hook is documented with its exact signature and exercised through the manager."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import qingdan
from qingdan.core import hookspecs
from qingdan.core.plugins import HOOK_NAMES, create_plugin_manager
from qingdan.core.spec import Campaign, Check, Projection, Target

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugin-guide.md"
HOOKS = sorted(name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("qingdan_"))
RESULT_TYPES = {
    "qingdan_campaign": Campaign,
    "qingdan_targets": Target,
    "qingdan_checks": Check,
    "qingdan_projections": Projection,
}


def signature(name: str) -> str:
    function = getattr(hookspecs, name)
    return f"def {name}{inspect.signature(function)}".replace("'", "")


def test_the_four_hooks_of_the_contract():
    assert HOOKS == sorted(HOOK_NAMES) == sorted(RESULT_TYPES)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_exact_signature(name):
    guide = GUIDE.read_text(encoding="utf-8")
    assert f"### `{name}`" in guide
    assert signature(name) in guide, signature(name)


@pytest.mark.parametrize("name", HOOKS)
def test_hookspec_docstring_says_when_called_and_what_empty_means(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "Called once per plugin" in doc
    assert re.search(r"None|empty", doc)
    body = inspect.getsource(getattr(hookspecs, name)).split('"""')[-1].strip()
    assert body == "", "no logic in hookspec bodies"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_exercised_through_the_plugin_manager(name):
    pm = create_plugin_manager(load=None)
    results = getattr(pm.hook, name)()
    assert results, f"no built-in plugin implements {name}"
    expected = RESULT_TYPES[name]
    for result in results:
        items = [result] if isinstance(result, expected) else list(result)
        assert items and all(isinstance(item, expected) for item in items)


# The plugin-author API: every name importable from ``qingdan`` itself, the same object as in its home.
AUTHOR_API = {
    "Campaign": "qingdan.core.spec",
    "Target": "qingdan.core.spec",
    "Check": "qingdan.core.spec",
    "Finding": "qingdan.core.spec",
    "Projection": "qingdan.core.spec",
    "Snapshot": "qingdan.core.spec",
    "TaskSpec": "qingdan.core.spec",
    "Phase": "qingdan.core.spec",
    "AttributeSpec": "qingdan.core.spec",
    "hookimpl": "qingdan.core.hookspecs",
}


@pytest.mark.parametrize("name", sorted(AUTHOR_API))
def test_plugin_author_api_is_importable_from_qingdan(name):
    assert name in qingdan.__all__
    assert getattr(qingdan, name) is getattr(importlib.import_module(AUTHOR_API[name]), name)
