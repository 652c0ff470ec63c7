"""乡镇信息: the township profile every form prints, kept in the ledger like every other fact."""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError

from .. import commands as cmd
from ..records import TOWNSHIP_KEY, Township
from .base import Handler


class TownshipCommands(Handler):
    def set_profile(self, c: cmd.SetProfile) -> str:
        """Describe the township the first time, afterwards replace its profile (an admin's command
        under a policy: no rule grants it to anyone else)."""
        common = self.uow.common(c)
        self.uow.check_future(common["on"])
        if not self.uow.exists(TOWNSHIP_KEY):
            self.uow.authorise(Township, "describe", common["actor"], TOWNSHIP_KEY)
            with self.uow.clocked():
                record = Township.describe(**common, profile=c.profile())
            try:
                self.uow.save(record)
                return TOWNSHIP_KEY
            except IntegrityError:
                pass  # another clerk described it first: this one replaces theirs
        return self.uow.act(Township, TOWNSHIP_KEY, "redescribe", c, profile=c.profile())
