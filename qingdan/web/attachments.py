"""附件 over HTTP: upload (``POST /api/hazards/{number}/attach``, ``/api/measures/{number}/attach``,
multipart), download (``GET /api/attachments/{sha256}``) and thumbnails
(``GET /api/attachments/{sha256}/thumbnail``); and the upload form of the hazard and measure pages.

Uploads may be as large as the attachment limit (``QINGDAN_ATTACHMENT_MAX_MB``, default 20 MB), so
their paths get a body limit of their own (:func:`upload_limit`); everything else keeps the small one.
Downloads are content-addressed, so they are cached for good; they are never rendered as a page:
``nosniff``, a sandboxing CSP, and ``attachment`` for anything but an image.
"""


import functools
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, File, Form, Path, Query, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

import qingdan
from qingdan.core.errors import InvalidCommand, NotFound, QingdanError
from qingdan.core.files import IMAGES, Limits, clean_name, sniff, thumbnail
from qingdan.core.labels import ATTACHMENT_KINDS, MEDIA_TYPE_LABELS, size_label
from qingdan.web.identity import writer

#: what a multipart upload adds to the file itself (field names, boundaries, the other fields)
FORM_OVERHEAD = 64 * 1024
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=31536000, immutable",
                    "Content-Security-Policy": "default-src 'none'; sandbox"}
THUMBNAIL_SIZE = 240


def upload_limit() -> int:
    return Limits.from_env().max_bytes + FORM_OVERHEAD


def is_upload(path: str) -> bool:
    return path.endswith("/attach") and path.count("/") in (3, 4)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidCommand(f"业务日期应为 YYYY-MM-DD，收到“{qingdan.core.errors.show(value)}”") from None


def install_attachment_routes(app: FastAPI, ledger_dep: Any) -> None:
    L = ledger_dep

    def upload_route(noun: str, tag: str) -> None:
        async def attach(
            ledger: L,
            actor: Annotated[str, Depends(writer)],
            number: Annotated[str, Path(description="编号")],
            file: Annotated[UploadFile, File(description="照片、PDF 或 Word/Excel 文档")],
            kind: Annotated[str, Form(description="附件类型：" + "、".join(ATTACHMENT_KINDS))] = "其他",
            name: Annotated[str | None, Form(description="文件名（默认为上传的文件名）")] = None,
            on: Annotated[str | None, Form(description="业务日期 YYYY-MM-DD，默认今天")] = None,
            note: Annotated[str | None, Form(description="说明")] = None,
        ) -> dict[str, str]:
            data = await file.read()
            sha = await run_in_threadpool(functools.partial(
                ledger.attach, number, data=data, name=name or file.filename, kind=kind, on=_date(on),
                note=note or None, actor=actor))
            return {"number": number, "sha256": sha}

        attach.__name__ = f"attach_{noun}"
        app.post(f"/api/{noun}/{{number}}/attach", tags=[tag], operation_id=f"attach_{noun}",
                 summary="添加附件（multipart/form-data：file、kind、name、on、note）；返回其 SHA-256",
                 response_model=dict[str, str])(attach)

    upload_route("hazards", "问题隐患")
    upload_route("measures", "制度措施")

    Sha = Annotated[str, Path(description="附件的 SHA-256", pattern="^[0-9a-fA-F]{64}$")]

    @app.get("/api/attachments/{sha256}", tags=["附件"], summary="下载附件（按 SHA-256）",
             response_class=Response, operation_id="get_attachment")
    def download(sha256: Sha, ledger: L,
                 name: Annotated[str | None, Query(description="下载时的文件名")] = None) -> Response:
        data = ledger.attachment(sha256)
        media_type = sniff(data) or "application/octet-stream"
        filename = clean_name(name or sha256.lower(), media_type if media_type in MEDIA_TYPE_LABELS else None)
        disposition = "inline" if media_type in IMAGES else "attachment"
        return Response(data, media_type=media_type, headers={
            **DOWNLOAD_HEADERS, "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}"})

    @app.get("/api/attachments/{sha256}/thumbnail", tags=["附件"], summary="图片附件的缩略图（JPEG）",
             response_class=Response, operation_id="get_attachment_thumbnail")
    def small(sha256: Sha, ledger: L) -> Response:
        data = ledger.attachment(sha256)
        if sniff(data) not in IMAGES:
            raise NotFound("这个附件不是图片，没有缩略图")
        try:
            small = thumbnail(data, THUMBNAIL_SIZE)
        except Exception:  # Pillow could read the header but not the pixels
            raise NotFound("这张图片无法生成缩略图，请下载原图查看") from None
        return Response(small, media_type="image/jpeg", headers=DOWNLOAD_HEADERS)

    _ = (download, small)


# -- on the pages -------------------------------------------------------------------------------


def gallery(row: Any) -> list[dict[str, Any]]:
    """A record's attachments as the page shows them."""
    items = []
    for a in getattr(row, "attachments", ()) or ():
        href = f"/api/attachments/{a.sha256}?name={quote(a.name)}"
        items.append({
            "a": a, "href": href, "thumb": f"/api/attachments/{a.sha256}/thumbnail" if a.is_image else None,
            "type": MEDIA_TYPE_LABELS.get(a.media_type, a.media_type), "size": size_label(a.size),
            "taken": a.taken_at.strftime("%Y-%m-%d %H:%M") if a.taken_at else None,
            "gps": f"{a.gps[0]:.5f}, {a.gps[1]:.5f}" if a.gps else None,
            "pixels": f"{a.width}×{a.height}" if a.width else None})
    return items


async def page_upload(pages: Any, request: Request, number: str, noun: str) -> Response:
    """The page's upload form posted: attach and go back to the page, saying what happened."""
    from qingdan.web.pages import who

    form = await request.form()
    upload = form.get("file")
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    data = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    filename = getattr(upload, "filename", None)
    back = f"/{noun}/{quote(number)}#attachments"

    def work() -> Response:
        viewer = who(request)
        refusal = pages.refuse_write(request, viewer)
        if refusal is not None:
            return refusal
        actor = viewer.actor
        if viewer.named:
            actor = (values.get("actor") or "").strip() or viewer.actor
            if not actor:
                return pages.redirect(back, "未能添加附件：请填写操作人")
        if not data:
            return pages.redirect(back, "未能添加附件：请选择要上传的文件")
        try:
            with pages.lend(request) as ledger:
                ledger.attach(number, data=data, name=values.get("name") or filename,
                              kind=values.get("kind") or "其他", on=_date(values.get("on")),
                              note=values.get("note") or None, actor=actor)
        except QingdanError as error:
            return pages.redirect(back, f"未能添加附件：{error}")
        return pages.redirect(back, f"已添加附件（{values.get('kind') or '其他'}）：{clean_name(filename or '', None)}",
                              actor=values.get("actor") if viewer.named else None)

    return await run_in_threadpool(work)
