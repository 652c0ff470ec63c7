"""Every error as ``{"error": {"type": …, "message": …}}`` with the library's Chinese message; no
stack trace ever reaches a response (it goes to the server's log)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from qingdan.core.commands import describe_errors
from qingdan.core.errors import (
    Conflict,
    InvalidCommand,
    NotFound,
    PermissionDenied,
    QingdanError,
    ViewBehind,
    WriteFailed,
)

log = logging.getLogger("qingdan.web")

# WriteFailed: nothing was written, try again later (503); ViewBehind: written, do not repeat (500 with the
# message saying so).
STATUS = {InvalidCommand: 422, NotFound: 404, Conflict: 409, PermissionDenied: 403, WriteFailed: 503,
          ViewBehind: 500}
HTTP_MESSAGES = {400: "请求内容无法解析（应为 UTF-8 编码的 JSON）", 404: "没有这个地址",
                 405: "这个地址不接受该请求方法", 413: "请求内容过大"}


class ErrorDetail(BaseModel):
    type: str = Field(description="错误类型：InvalidCommand、NotFound、Conflict、PermissionDenied、Unauthenticated …")
    message: str = Field(description="给办事人员看的中文说明")


class ErrorBody(BaseModel):
    """Every error response of the API."""

    error: ErrorDetail


#: The error responses every route documents (the app answers every error in this one shape).
ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (401, "未登录或令牌无效（Unauthenticated）"), (403, "无权进行此操作（PermissionDenied）"),
        (404, "没有这条记录或这个地址（NotFound）"), (409, "与他人同时的操作冲突（Conflict）"),
        (413, "请求内容过大"), (422, "命令或参数不符合规则（InvalidCommand）"))}


def error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    from qingdan.web.identity import Unauthenticated

    @app.exception_handler(QingdanError)
    async def qingdan_error(request: Request, exc: QingdanError) -> JSONResponse:
        if isinstance(exc, Unauthenticated):
            response = error(401, "Unauthenticated", str(exc))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        for kind, status in STATUS.items():
            if isinstance(exc, kind):
                return error(status, kind.__name__, str(exc))
        return error(500, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        route = request.scope.get("route")
        model = getattr(getattr(route, "endpoint", None), "command_model", None)
        return error(422, "InvalidCommand", describe_errors(exc.errors(), model) or "请求格式不对")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body the framework could not even parse: a bad command
            return error(422, "InvalidCommand", HTTP_MESSAGES[400])
        message = HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
        return error(exc.status_code, "HTTPError", message)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error(500, "InternalError", "服务内部错误，已记入服务日志；请联系管理员")
