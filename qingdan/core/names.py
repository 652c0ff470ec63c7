"""The campaigns' names for a read that only shows them, without loading the plugins.

Loading the plugins — pluggy, every campaign module, its spec models and their hooks — is about 90
million of the 1,130 million instructions of a whole ``qingdan hazard show``, and all that command
wants of them is a name for each campaign id. So the names a full load found are kept in a small
file in the user's cache directory (``QINGDAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/qingdan``, else
``~/.cache/qingdan``; ``%LOCALAPPDATA%\\qingdan\\cache`` on Windows; ``QINGDAN_CACHE_DIR=off`` keeps
none), one file per interpreter and import path, and used while nothing they came from has changed:

* the same ``QINGDAN_LOAD_PLUGINS`` (which plugins are loaded);
* the same directories on the import path, each with the same modification time — installing,
  upgrading or removing a distribution adds or removes entries there, which changes it;
* the same files, each with the same modification time, of every module of the plugins' own
  packages that loading them imported (an edit in an editable install, or in this checkout).

Anything else — no file, a damaged one, one of another format, an unwritable directory — and the
plugins are loaded as before (and the file written for the next time). The names are only ever
shown to people: nothing is validated or recorded from them, and a JSON answer keeps the ids.

Written by hand: pluggy and :mod:`importlib.metadata` read every installed distribution's metadata
in each process, and no well-kept library keeps what a plugin load found between processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

FORMAT = "qingdan-campaign-names"
VERSION = 1
CACHE_ENV = "QINGDAN_CACHE_DIR"
LOAD_PLUGINS_ENV = "QINGDAN_LOAD_PLUGINS"  # the same variable as qingdan.core.plugins reads


def cache_directory() -> Path | None:
    """The user's cache directory for qingdan (see the module's docstring), None when turned off."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return None if given.strip().lower() in ("off", "0", "none") else Path(given).expanduser()
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "qingdan" / "cache"
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        return (Path(base) if base else Path.home() / ".cache") / "qingdan"
    except RuntimeError:  # no home directory to be found: keep none
        return None


def _import_path() -> list[str]:
    """The import path's directories, less the current directory (which a ledger's files change)."""
    try:
        here: str | None = os.getcwd()
    except OSError:  # the current directory was removed
        here = None
    return [p for p in dict.fromkeys(sys.path)
            if p and (here is None or os.path.abspath(p) != here) and os.path.isdir(p)]


def _cache_file() -> Path | None:
    directory = cache_directory()
    if directory is None:
        return None
    where = "\0".join([sys.executable, *_import_path()])
    return directory / f"campaign-names-{hashlib.sha256(where.encode('utf-8', 'surrogatepass')).hexdigest()[:20]}.json"


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _fresh(found: Any) -> bool:
    """Whether a cache file's contents still describe what a plugin load would find now."""
    if not isinstance(found, dict) or found.get("format") != FORMAT or found.get("version") != VERSION:
        return False
    if found.get("load") != os.environ.get(LOAD_PLUGINS_ENV):
        return False
    dirs, files = found.get("dirs"), found.get("files")
    if not isinstance(dirs, list) or not isinstance(files, list) or not isinstance(found.get("names"), dict):
        return False
    if [entry[0] for entry in dirs if isinstance(entry, list) and entry] != _import_path():
        return False
    return all(isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
               and _mtime(entry[0]) == entry[1] for entry in (*dirs, *files))


def cached_names() -> dict[str, str] | None:
    """The names the cache holds, if it is there and still fresh; else None."""
    path = _cache_file()
    if path is None:
        return None
    try:
        found = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not _fresh(found):
        return None
    return {str(k): str(v) for k, v in found["names"].items()}


def _plugin_files(plugins: Any) -> list[str]:
    """The files of every loaded module of the packages the plugin objects came from."""
    modules = (plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__ for plugin in plugins)
    packages = {name.split(".")[0] for name in modules if name}
    files = set()
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in packages:
            file = getattr(module, "__file__", None)
            if isinstance(file, str) and os.path.isfile(file):
                files.add(file)
    return sorted(files)


def remember(catalogue: Any, plugins: Any) -> None:
    """Write the names of ``catalogue``, loaded from the plugin objects ``plugins``, for later reads;
    a failure to write is silent: the cache only saves time."""
    path = _cache_file()
    if path is None:
        return
    record = {"format": FORMAT, "version": VERSION, "load": os.environ.get(LOAD_PLUGINS_ENV),
              "dirs": [[p, _mtime(p)] for p in _import_path()],
              "files": [[f, _mtime(f)] for f in _plugin_files(plugins)],
              "names": {cid: c.name for cid, c in catalogue.campaigns.items()}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=".names-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(record, out, ensure_ascii=False)
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def campaign_names(catalogue: Any = None) -> Mapping[str, str]:
    """Each campaign id's name: from ``catalogue`` when given (a ledger opened with its own), else
    from the process's catalogue when it is already loaded, else from the cache when it is fresh,
    else from loading the plugins (and the cache is written)."""
    if catalogue is None:
        plugins = sys.modules.get("qingdan.core.plugins")
        catalogue = getattr(plugins, "_catalogue", None) if plugins is not None else None
    if catalogue is not None:
        return {cid: c.name for cid, c in catalogue.campaigns.items()}
    found = cached_names()
    if found is not None:
        return found
    from .plugins import get_catalogue, get_plugin_manager

    catalogue = get_catalogue()
    remember(catalogue, get_plugin_manager().get_plugins())
    return {cid: c.name for cid, c in catalogue.campaigns.items()}
