"""The campaigns' names for a read come from a cache of what a full plugin load found, while nothing
that load read has changed; anything doubtful, and the plugins are loaded again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qingdan.core import names, plugins

QINGDAN = str(Path(sys.executable).with_name("qingdan"))


@pytest.fixture
def unloaded(monkeypatch, tmp_path):
    """This process as a fresh one sees it: no catalogue loaded yet, and a cache directory of its own."""
    monkeypatch.setattr(plugins, "_catalogue", None)
    monkeypatch.setattr(plugins, "_manager", None)
    monkeypatch.setenv("QINGDAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QINGDAN_LOAD_PLUGINS", raising=False)
    return tmp_path / "cache"


def test_a_full_load_writes_the_names_and_the_next_read_finds_them(unloaded):
    assert names.cached_names() is None
    found = names.campaign_names()
    assert found["fire"] == "消防安全专项整治" and len(found) >= 9
    [written] = unloaded.glob("campaign-names-*.json")
    record = json.loads(written.read_text(encoding="utf-8"))
    assert record["names"] == dict(found)
    assert any(f.endswith(os.path.join("qingdan", "plugins", "fire", "__init__.py")) for f, _ in record["files"])
    assert names.cached_names() == dict(found)


def test_an_edited_plugin_file_a_changed_import_path_or_plugin_choice_makes_it_stale(unloaded, monkeypatch, tmp_path):
    names.campaign_names()
    [written] = unloaded.glob("campaign-names-*.json")
    record = json.loads(written.read_text(encoding="utf-8"))
    plugin_file = next(f for f, _ in record["files"] if f.endswith(os.path.join("fire", "__init__.py")))
    stat = os.stat(plugin_file)
    try:
        os.utime(plugin_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert names.cached_names() is None  # an edit of a plugin in place
    finally:
        os.utime(plugin_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert names.cached_names() is not None
    monkeypatch.setenv("QINGDAN_LOAD_PLUGINS", "fire")
    assert names.cached_names() is None  # another choice of plugins
    monkeypatch.delenv("QINGDAN_LOAD_PLUGINS")
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    assert names.cached_names() is None  # another import path: a file of its own
    monkeypatch.setattr(sys, "path", sys.path[:-1])
    assert names.cached_names() is not None
    directory = record["dirs"][-1][0]
    monkeypatch.setattr(names, "_mtime", lambda path, real=names._mtime: 1 if path == directory else real(path))
    assert names.cached_names() is None  # something installed or removed there


@pytest.mark.parametrize("damage", [b"", b"{", b"[]", b'{"format": "qingdan-campaign-names", "version": 1}',
                                    b'{"format": "other", "version": 1, "names": {}}'])
def test_a_damaged_or_foreign_file_is_not_used_and_the_plugins_are_loaded(unloaded, damage):
    names.campaign_names()
    [written] = unloaded.glob("campaign-names-*.json")
    written.write_bytes(damage)
    assert names.cached_names() is None
    plugins._catalogue = None
    assert names.campaign_names()["fire"] == "消防安全专项整治"
    assert json.loads(written.read_text(encoding="utf-8"))["names"]["fire"] == "消防安全专项整治"  # written again


def test_no_cache_when_turned_off_or_unwritable(unloaded, monkeypatch, tmp_path):
    monkeypatch.setenv("QINGDAN_CACHE_DIR", "off")
    assert names.cache_directory() is None and names.campaign_names()["fire"] == "消防安全专项整治"
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("QINGDAN_CACHE_DIR", str(blocked))
    plugins._catalogue = None
    assert names.campaign_names()["fire"] == "消防安全专项整治"  # written nowhere, said nothing
    assert blocked.read_text() == "not a directory"


def test_a_ledger_with_its_own_catalogue_names_from_it(ledger, catalogue):
    assert dict(ledger.campaign_names()) == {cid: c.name for cid, c in catalogue.campaigns.items()}


def test_the_installed_command_shows_names_without_loading_the_plugins_the_second_time(tmp_path):
    import qingdan

    with qingdan.open_ledger(str(tmp_path / "l.db"), actor="王明") as ledger:
        number = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="灭火器过期", found_on="2021-03-01")
    script = ("import sys\nfrom qingdan.cli import main\n"
              f"sys.argv = ['qingdan', '--db', {str(tmp_path / 'l.db')!r}, 'hazard', 'show', {number!r}]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print('plugins loaded:', 'qingdan.core.plugins' in sys.modules, 'pluggy' in sys.modules)\n")
    env = {**os.environ, "COLUMNS": "100", "QINGDAN_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("QINGDAN_LOAD_PLUGINS", None)
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60,
                           cwd=tmp_path) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0 and "消防安全专项整治" in run.stdout and "南阳饭店" in run.stdout, run.stderr
    assert "plugins loaded: True True" in runs[0].stdout
    assert "plugins loaded: False False" in runs[1].stdout


def test_a_removed_current_directory_or_no_home_keeps_no_cache_and_still_names(unloaded, monkeypatch):
    def gone() -> str:
        raise FileNotFoundError("the current directory was removed")

    monkeypatch.setattr(os, "getcwd", gone)
    assert names.campaign_names()["fire"] == "消防安全专项整治"
    monkeypatch.delenv("QINGDAN_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def homeless() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(homeless))
    assert names.cache_directory() is None and names.cached_names() is None
