"""Who is calling: a bearer token mapped to a policy actor, or — without a policy, on loopback only —
the actor a host names in ``X-Qingdan-Actor`` (percent-encoded UTF-8, as HTTP headers are ASCII).

The policy is the ledger's own (``qingdan policy set``) when it has one, read afresh for each request
(so a token added or revoked there counts at once), else the one the service was started with."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import unquote

from fastapi import Request

from qingdan.core.errors import QingdanError
from qingdan.core.policy import Authoriser, Policy


class Unauthenticated(QingdanError):
    """Raised when a request that needs an identity has none, or an unknown one (HTTP 401)."""


class Identity:
    def __init__(self, authoriser: Authoriser, stored: Callable[[], Policy | None] | None = None) -> None:
        self.fallback = authoriser
        self.stored = stored

    @property
    def authoriser(self) -> Authoriser:
        """The policy in force: the ledger's own, else the service's."""
        current = self.stored() if self.stored is not None else None
        return current if current is not None else self.fallback

    @property
    def tokens(self) -> bool:
        return isinstance(self.authoriser, Policy)

    def actor(self, request: Request) -> str | None:
        """The caller's actor, None when the request names none; an unknown token is refused."""
        authoriser = self.authoriser
        tokens = isinstance(authoriser, Policy)
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("Authorization 应为 “Bearer 令牌”")
            if not tokens:
                raise Unauthenticated("本服务未配置权限与令牌，请不要发送 Authorization；写入请用 X-Qingdan-Actor 写明操作人")
            actor = authoriser.actor_for_token(token.strip())  # type: ignore[attr-defined]
            if actor is None:
                raise Unauthenticated("令牌无效：权限配置中没有与之对应的操作人")
            return actor
        named = request.headers.get("x-qingdan-actor")
        if named is not None and not tokens:
            if not _loopback(request):
                raise Unauthenticated("未配置权限时只接受本机（127.0.0.1）的写入；对外服务请配置权限与令牌")
            try:  # HTTP headers arrive as Latin-1: raw UTF-8 (curl -H "X-Qingdan-Actor: 王明") too
                named = named.encode("latin-1").decode("utf-8")
            except UnicodeError:
                raise Unauthenticated("X-Qingdan-Actor 应为 UTF-8（可用百分号编码，如 %E7%8E%8B%E6%98%8E）") from None
            actor = unquote(named).strip()
            if actor:
                return actor
        return None


def _loopback(request: Request) -> bool:
    """Whether the request comes from this machine (a host name that is not an address — a test
    client, a Unix socket — counts as local)."""
    host = request.client.host if request.client else None
    if not host:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def writer(request: Request) -> str:
    """The actor of a write; a write without one is refused (401)."""
    identity: Identity = request.app.state.identity
    actor = identity.actor(request)
    if actor is None:
        if isinstance(identity.authoriser, Policy):
            raise Unauthenticated("写入须登录：请在 Authorization 中提供令牌（Bearer …）")
        raise Unauthenticated("写入须写明操作人：请在 X-Qingdan-Actor 中写明（UTF-8 百分号编码）")
    return actor


def reader(request: Request) -> str | None:
    """The actor of a read, if any (reads need none; a wrong token is still refused)."""
    return request.app.state.identity.actor(request)
