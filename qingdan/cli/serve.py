"""``qingdan serve``: the HTTP API (:func:`qingdan.web.create_app`) under uvicorn.

Loopback only unless a policy says who may write: without a policy any caller names its own actor in
``X-Qingdan-Actor``, which is acceptable for a host system on the same machine and for nobody else.
fastapi and uvicorn are imported only when the command runs (``pip install 'qingdan[web]'``).

SIGTERM or Ctrl+C stops accepting connections, lets the requests in flight finish (a write that was
answered 2xx is committed), closes the ledgers and exits 0.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import signal
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from qingdan.cli.common import DEFAULT_DB, settings
from qingdan.core.errors import NoLedger

WEB_MODULES = ("fastapi", "fastapi_offline", "uvicorn", "starlette")
GRACE = 10  # seconds the requests in flight get to finish after SIGTERM


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and ``localhost``; anything else (0.0.0.0, a LAN address, a name) is not."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _fail(text: str, code: int = 1) -> typer.Exit:
    from qingdan.cli.output import terminal_text

    typer.echo(terminal_text(f"错误：{text}"), err=True)
    return typer.Exit(code)


def _import_web() -> Any:
    """(create_app, uvicorn), or a Chinese message naming the extra to install."""
    try:
        import fastapi  # noqa: F401
        import fastapi_offline  # noqa: F401
        import uvicorn

        from qingdan.web import create_app
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in WEB_MODULES:
            raise
        raise _fail(f"qingdan serve 需要 HTTP 组件，当前环境缺少 {error.name}：请先运行 "
                    "pip install 'qingdan[web]' — the web extra is not installed") from None
    return create_app, uvicorn


def _bind(host: str, port: int) -> socket.socket:
    """The listening address, bound here so that a busy port is one clear line (and port 0 works)."""
    name = host.strip().strip("[]")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise _fail(f"无法解析地址“{host}”：{error.strerror} — cannot resolve --host") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        reasons = {
            errno.EADDRINUSE: f"端口 {port} 已被占用（可能已有一个 qingdan serve 在运行），请用 --port 换一个端口",
            errno.EACCES: f"没有权限使用端口 {port}（1024 以下的端口须管理员权限），请用 --port 换一个端口",
            errno.EADDRNOTAVAIL: f"本机没有地址 {host}，请检查 --host",
        }
        raise _fail(reasons.get(error.errno, f"无法在 {host}:{port} 上监听：{error.strerror}")) from None
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def _log_config(uvicorn: Any) -> dict[str, Any]:
    """uvicorn's logging, with the access log on stderr too: stdout stays empty (data only)."""
    import copy

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


def serve(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", metavar="URL",
        help="台账数据库（同全局 --db / $QINGDAN_DB，默认 ./qingdan.db）— ledger database")] = None,
    host: Annotated[str, typer.Option(
        "--host", help="监听地址；非本机地址（如 0.0.0.0）必须配合 --policy — listen address; "
                       "anything but 127.0.0.1/::1/localhost needs --policy")] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        "--port", min=0, max=65535, help="端口，0 表示任选一个空闲端口 — port (0: any free port)")] = 8080,
    policy: Annotated[Path | None, typer.Option(
        "--policy", envvar="QINGDAN_POLICY", show_envvar=True, metavar="FILE",
        help="权限配置（TOML，含 token_sha256 令牌，见 qingdan token create）— policy file with tokens")] = None,
) -> None:
    """提供 HTTP API（问题隐患、制度措施、两个清单、事件流），接口文档在 /api/docs — serve the HTTP API.

    没有 --policy 时只能在本机地址上服务，写入在请求头 X-Qingdan-Actor 中写明操作人；有 --policy 时用令牌登录（Authorization: Bearer 令牌，见 qingdan token create）。Ctrl+C 或 SIGTERM 停止：先答完正在处理的请求。详见 docs/api.md。
    """
    url = db or settings(ctx).db or os.environ.get("QINGDAN_DB") or DEFAULT_DB
    if policy is None and not is_loopback(host) and not _has_own_policy(url):
        raise _fail(
            f"不能在 {host} 上对外提供服务而不配置权限：没有权限配置时，任何能连到这个端口的人都能以任意操作人的名义写入台账。"
            "请用 --policy 权限配置.toml（或环境变量 QINGDAN_POLICY）指定操作人、角色和令牌"
            "（令牌用 qingdan token create 生成，见 docs/api.md），或只在本机地址 127.0.0.1 / ::1 / localhost 上服务"
            " — refusing to serve a non-loopback address without a policy", 2)
    create_app, uvicorn = _import_web()
    from qingdan.core.policy import Policy, load_policy

    authoriser = load_policy(policy)
    sock = _bind(host, port)
    try:
        app = create_app(url, policy=policy, create=True if settings(ctx).init else False)
    except NoLedger as error:  # a mistyped --db is an error, not a new empty ledger to serve
        sock.close()
        raise NoLedger(f"{error}；要在这里新建台账并提供服务，请加 --init（qingdan --init serve --db …）") from None
    except BaseException:
        sock.close()
        raise
    base = _url(sock)

    stored = app.state.ledgers.stored_policy()
    if stored is not None:
        authoriser, policy = stored, "（台账中的权限配置，qingdan policy show）"
    if isinstance(authoriser, Policy):
        tokens = sum(1 for g in authoriser.grants.values() if g.token_sha256)
        who = f"权限配置 {policy}：{len(authoriser.grants)} 个操作人，{tokens} 个令牌（Authorization: Bearer 令牌）"
        if not tokens:
            who += "；没有任何令牌，只能查询、不能写入（用 qingdan token create 生成令牌）"
    else:
        who = "未配置权限：写入须在请求头 X-Qingdan-Actor 中写明操作人（UTF-8 百分号编码），仅限本机访问"

    def announce() -> None:
        typer.echo(f"qingdan HTTP API 已启动 — listening on {base}/api/", err=True)
        typer.echo(f"  接口文档 API docs：{base}/api/docs", err=True)
        typer.echo(f"  台账 ledger：{_shown(url)}", err=True)
        typer.echo(f"  {who}", err=True)
        typer.echo("  按 Ctrl+C 停止 — press Ctrl+C to stop", err=True)

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                announce()

    config = uvicorn.Config(app, host=host, port=sock.getsockname()[1], log_level="info",
                            log_config=_log_config(uvicorn), timeout_graceful_shutdown=GRACE)
    server = Server(config)
    # uvicorn re-raises the signal that stopped it once it has shut down, which would end the process
    # with "killed by SIGTERM"; with these handlers in place that re-raise is a no-op and we exit 0.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    if not server.started:
        raise _fail("服务未能启动（见上面的日志）— the server did not start")
    typer.echo("qingdan HTTP API 已停止 — stopped", err=True)


def _has_own_policy(url: str) -> bool:
    """Whether the ledger at ``url`` holds a policy of its own (then it decides, with its tokens)."""
    import qingdan

    if not url.startswith(("postgresql://", "postgres://")):
        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        if not path.is_file():
            return False  # no ledger there yet: nothing to open (and nothing is created)
    try:
        with qingdan.open_ledger(url) as ledger:
            return ledger.access_policy() is not None
    except Exception:
        return False


def _stopped(sig: int, frame: Any) -> None:
    """Signal handler in force after uvicorn has shut down: nothing left to do."""


def _shown(url: str) -> str:
    """The database for the start-up message, without a password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, at, place = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}{':***' if ':' in credentials else ''}{at}{place}"
    return url


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
