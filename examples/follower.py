#!/usr/bin/env python3
"""跟随 qingdan 事件流 — follow the event feed of a qingdan HTTP API (standard library only).

    python examples/follower.py http://127.0.0.1:8080 --state follower.pos

Reads ``GET /api/events?after=<position>`` page by page, prints each event (one line; ``--json`` for
the event as JSON), and after each page stores the last position in the state file, so that the
next run resumes where this one stopped. When it has caught up it polls every ``--interval``
seconds; ``--once`` reads one page and exits. Delivery is at least once: if the follower stops
between printing a page and saving its position, that page is printed again on the next run, so a
consumer that must not apply an event twice keeps the position with its own data (or skips
positions it has seen).

Exit status: 0 stopped normally (``--once``, Ctrl+C, SIGTERM), 1 the server refused the request (the
message in Chinese comes from the server), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


def load_position(state: Path) -> int:
    """The last position handled, 0 when there is no state file yet (start from the beginning)."""
    try:
        return int(state.read_text(encoding="utf-8").strip() or 0)
    except FileNotFoundError:
        return 0


def save_position(state: Path, position: int) -> None:
    """Write the position atomically: a crash leaves the old position or the new one, never half."""
    partial = state.with_name(state.name + ".tmp")
    partial.write_text(f"{position}\n", encoding="utf-8")
    os.replace(partial, state)


def fetch_page(base: str, after: int, limit: int, token: str | None, timeout: float) -> dict:
    query = urllib.parse.urlencode({"after": after, "limit": limit})
    request = urllib.request.Request(f"{base.rstrip('/')}/api/events?{query}",
                                     headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def show(event: dict) -> str:
    """One line per event: position, when it was recorded, type, record, effective date, actor."""
    return (f"{event['position']:>8}  {event['recorded_at']}  {event['type']:<28} "
            f"{event.get('number') or '-':<20} 业务日期 {event['on']}  操作人 {event.get('actor') or '-'}")


def server_message(error: urllib.error.HTTPError) -> str:
    """The server's ``{"error": {"type", "message"}}``, or the bare status when the body is not that."""
    try:
        body = json.loads(error.read().decode("utf-8"))
        return f"{body['error']['type']}: {body['error']['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {error.code} {error.reason}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="跟随 qingdan 事件流 — follow /api/events, resumable.")
    parser.add_argument("base", help="服务地址，如 http://127.0.0.1:8080")
    parser.add_argument("--state", type=Path, default=Path("follower.pos"),
                        help="保存位置的文件（默认 ./follower.pos）— where the last position is kept")
    parser.add_argument("--limit", type=int, default=100, help="每页事件数（1–1000）— events per page")
    parser.add_argument("--interval", type=float, default=2.0, help="追上后每隔几秒再查 — poll interval")
    parser.add_argument("--once", action="store_true", help="只读一页就退出 — read one page and exit")
    parser.add_argument("--json", action="store_true", help="每个事件输出一行 JSON — JSON lines")
    parser.add_argument("--token", default=os.environ.get("QINGDAN_TOKEN"),
                        help="令牌（默认 $QINGDAN_TOKEN；查询不需要令牌）— bearer token, optional")
    parser.add_argument("--timeout", type=float, default=30.0, help="每次请求的超时秒数 — request timeout")
    args = parser.parse_args(argv)
    if not 1 <= args.limit <= 1000:
        parser.error("--limit 应在 1 到 1000 之间")

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # kill -TERM stops it like Ctrl+C
    position = load_position(args.state)
    print(f"从位置 {position} 之后开始 — following {args.base} after position {position}", file=sys.stderr)
    failures = 0
    try:
        while True:
            try:
                page = fetch_page(args.base, position, args.limit, args.token, args.timeout)
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    print(f"错误：服务拒绝了请求 — {server_message(error)}", file=sys.stderr)
                    return 1
                problem = server_message(error)
            except (urllib.error.URLError, OSError, ValueError) as error:
                problem = str(getattr(error, "reason", error))
            else:
                failures = 0
                for event in page["events"]:
                    print(json.dumps(event, ensure_ascii=False) if args.json else show(event), flush=True)
                if page["last"] != position:
                    position = page["last"]
                    save_position(args.state, position)
                if args.once:
                    return 0
                if len(page["events"]) == args.limit:
                    continue  # more to read: no pause
                time.sleep(args.interval)
                continue
            if args.once:
                print(f"错误：无法读取事件流 — {problem}", file=sys.stderr)
                return 1
            failures += 1
            pause = min(60.0, args.interval * 2 ** min(failures, 5))
            print(f"暂时无法读取事件流（{problem}），{pause:.0f} 秒后重试 — retrying", file=sys.stderr)
            time.sleep(pause)
    except KeyboardInterrupt:
        print(f"已停止，位置 {position} 已保存 — stopped at position {position}", file=sys.stderr)
        return 0


if __name__ == "__main__":
    sys.exit(main())
