"""Every built-in campaign passes the same contract an external plugin author subclasses."""

from __future__ import annotations

import qingdan.plugins.construction
import qingdan.plugins.enterprise
import qingdan.plugins.fire
import qingdan.plugins.general
import qingdan.plugins.hazchem
import qingdan.plugins.road
import qingdan.plugins.study
import qingdan.plugins.transport
import qingdan.plugins.waste
from qingdan.testing import CampaignPluginContract


class TestGeneralPlugin(CampaignPluginContract):
    plugin = qingdan.plugins.general


class TestStudyPlugin(CampaignPluginContract):
    plugin = qingdan.plugins.study


class TestEnterprisePlugin(CampaignPluginContract):
    plugin = qingdan.plugins.enterprise


class TestHazchemPlugin(CampaignPluginContract):
    plugin = qingdan.plugins.hazchem


class TestFirePlugin(CampaignPluginContract):
    plugin = qingdan.plugins.fire


class TestRoadPlugin(CampaignPluginContract):
    plugin = qingdan.plugins.road


class TestTransportPlugin(CampaignPluginContract):
    plugin = qingdan.plugins.transport


class TestConstructionPlugin(CampaignPluginContract):
    plugin = qingdan.plugins.construction


class TestWastePlugin(CampaignPluginContract):
    plugin = qingdan.plugins.waste
