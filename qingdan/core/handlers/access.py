"""The ledger's own policy (权限配置): obeyed by every write (read, or checked under the write lock),
set by an admin (``qingdan policy set``)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError

from ..errors import Conflict, NotFound
from ..policy import Access, AccessRequest, Policy
from ..rules import POLICY_KEY, POLICY_NUMBER, aggregate_id
from ..writes import UnitOfWork

POLICY_ID = aggregate_id(POLICY_KEY)


class PolicyCommands:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._state: tuple[int, Policy | None] = (0, None)
        #: ``_state`` was read from the log and no write of this process has found it changed
        #: since: a single command may be judged on it without reading (its writes check it)
        self._trusted = False
        self.uow: UnitOfWork | None = None
        self.access: Access | None = None

    def bind(self, uow: UnitOfWork, access: Access) -> None:
        self.uow, self.access = uow, access
        uow.policy_current = self.current
        uow.policy_stale = self.stale

    def current(self) -> bool:
        """Whether the policy held in memory is still the stored one (one read of the log)."""
        return not self.app.recorder.select_events(POLICY_ID, gt=self._state[0] or None, limit=1)

    def stale(self) -> None:
        self._trusted = False

    def stored(self) -> Policy | None:
        """The policy stored in the ledger (None if it has none), re-read only when it has changed
        (one indexed look-up). A single command (:meth:`UnitOfWork.run_command`) once it has been
        read is judged on the one in memory, checked under the write lock by each of its writes.
        Within a batch, read once, by its first command: the
        commands of a batch are judged before it is stored (not under the write lock), so the
        batch is judged against the policy as it stood when it began, as a look-up per command
        judges the batch's last command against the policy of a moment before the write; the
        look-up per command was half the cost of a batched command."""
        memo = self.uow.batch_memo if self.uow is not None and self.uow.memoising else None
        if memo is not None and "policy" in memo:
            return memo["policy"]  # type: ignore[no-any-return]
        version, current = self._state
        if self._trusted and self.uow is not None and self.uow.single_command:
            # Not read: the command's writes check under the write lock that the policy is still
            # this version, and the command is judged again if not (UnitOfWork.run_command).
            self.uow.judged_on_memory(version)
        else:
            if self.app.recorder.select_events(POLICY_ID, gt=version or None, limit=1):
                record = self.app.repository.get(POLICY_ID)
                current = Policy.from_data(record.grants)
                self._state = (record.version, current)
            self._trusted = True
        if memo is not None:
            memo["policy"] = current
        return current

    def set(self, policy: Policy | str, actor: str | None, note: str | None) -> int:
        uow, access = self.uow, self.access
        assert uow is not None and access is not None
        from ..records import AccessPolicy

        new = Policy.from_text(policy, "") if isinstance(policy, str) else policy
        current = self.stored()
        who = access.actor(actor, policy=current if current is not None else new)
        request = AccessRequest(actor=who, kind="AccessPolicy", command="set")
        if current is None:  # the first: whoever can write to the database (and the host agrees)
            if access.host is not None:
                access.host.authorise(request)
            access.check_new_policy(new, who)
            with uow.clocked():
                record = AccessPolicy.adopt(on=uow.today(), actor=who, note=note, grants=new.data())
        else:
            access.authorise(request)
            access.check_new_policy(new, who)
            record = uow.get(AccessPolicy, POLICY_NUMBER, POLICY_KEY)
            with uow.clocked():
                record.change(on=uow.today(), actor=who, note=note, grants=new.data())
        try:
            uow.save(record)
        except IntegrityError:
            uow.forget(record)
            raise Conflict("其他人同时修改了权限配置，本次未写入，请查看后重试") from None
        self._state = (0, None)
        self._trusted = False
        if uow.memoising:
            uow.batch_memo.pop("policy", None)
        return int(record.version)

    def history(self, queries: Any) -> list[Any]:
        try:
            return list(queries.history(POLICY_KEY))
        except NotFound:
            return []
