"""An external plugin package (examples/qingdan-gas) loads through entry points next to the built-ins."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "qingdan-gas"

PROBE = """
import json
import os
from qingdan.core.plugins import Catalogue, create_plugin_manager
catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=None))
print(json.dumps({
    "campaigns": sorted(catalogue.campaigns),
    "owner": catalogue.owner("campaign", "gas"),
    "targets": sorted(t for t in catalogue.targets if t.startswith("gas.")),
    "errors": [str(e) for e in catalogue.errors],
    "plugins": {p.name: [p.version, p.distribution, p.campaign] for p in catalogue.plugins},
}))
"""


def gas_entry_point_installed() -> bool:
    return any(ep.name == "gas" for ep in importlib.metadata.entry_points(group="qingdan"))


@pytest.fixture(scope="module")
def installed_gas_plugin():
    if not gas_entry_point_installed():
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", str(EXAMPLE)],
            capture_output=True, text=True, timeout=600,
        )
        assert result.returncode == 0, result.stderr
    # A fresh interpreter sees the editable install's path hooks whether or not it was just added.
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    return json.loads(probe.stdout)


def test_external_plugin_loads_alongside_the_builtins(installed_gas_plugin):
    assert {"gas", "general", "fire", "hazchem", "waste"} <= set(installed_gas_plugin["campaigns"])
    assert installed_gas_plugin["owner"] == "gas"
    assert installed_gas_plugin["errors"] == []


def test_external_plugin_contributes_targets_and_is_listed_with_its_version(installed_gas_plugin):
    assert installed_gas_plugin["targets"] == ["gas.alarm_rate", "gas.inspection_staff", "gas.pipe_renewal_rate"]
    assert installed_gas_plugin["plugins"]["gas"] == ["0.1.0", "qingdan-gas", "gas"]


def test_load_plugins_env_can_leave_the_external_plugin_out(installed_gas_plugin):
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "QINGDAN_LOAD_PLUGINS": "fire"})
    assert probe.returncode == 0, probe.stderr
    # load=None in the probe overrides the environment: the environment only applies when load is left out
    assert "gas" in json.loads(probe.stdout)["campaigns"]
    limited = subprocess.run(
        [sys.executable, "-c", "from qingdan.core.plugins import get_catalogue; print(sorted(get_catalogue().campaigns))"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "QINGDAN_LOAD_PLUGINS": "gas,fire"},
    )
    assert limited.stdout.strip() == "['fire', 'gas']", limited.stderr
