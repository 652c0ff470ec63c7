"""监管对象: register, dated attribute changes, 注销."""

from __future__ import annotations

from .. import commands as cmd
from ..records import Unit
from .base import Handler


class UnitCommands(Handler):
    def register(self, c: cmd.RegisterUnit) -> str:
        common = self.uow.common(c)
        self.uow.check_future(common["on"])
        attributes = self.check_attributes(c.attributes or {}, allow_none=False)
        self.uow.authorise(Unit, "register", common["actor"], c.number)
        fields = {"name": c.name, "kind": c.kind, "village": c.village,
                  "credit_code": c.credit_code, "attributes": attributes}
        return self.uow.create("U", 5, lambda number: Unit.register(number=number, **common, **fields),
                               given=c.number)

    def set_attributes(self, number: str, c: cmd.SetUnitAttributes) -> str:
        attributes = self.check_attributes(c.attributes, allow_none=True)
        return self.uow.act(Unit, number, "set_attributes", c, attributes=attributes)

    def close(self, number: str, c: cmd.CloseUnit) -> str:
        return self.uow.act(Unit, number, "close", c, reason=c.reason)
