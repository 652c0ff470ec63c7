"""A limit on request bodies, checked on the declared length and on what actually arrives."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class BodyLimit:
    """ASGI middleware: a body over ``limit`` bytes is answered 413 and never reaches the app.

    The body (at most ``limit`` bytes: commands are small) is read here first and handed on whole,
    so a chunked upload without a ``Content-Length`` is refused the same way as a declared one.
    """

    def __init__(self, app: Any, limit: int, upload_limit: int | None = None,
                 is_upload: Callable[[str], bool] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.is_upload = is_upload

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        if self.upload_limit is not None and self.is_upload is not None and scope.get("method") == "POST" \
                and self.is_upload(scope.get("path", "")):
            limit = self.upload_limit  # an attachment: as large as the attachment limit allows
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: let the app see it
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await self._refuse(send, limit)
                return
            if not message.get("more_body"):
                break
        body, delivered = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any, limit: int) -> None:
        body = json.dumps({"error": {"type": "PayloadTooLarge",
                                     "message": f"请求内容超过 {limit:,} 字节的上限"}},
                          ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
