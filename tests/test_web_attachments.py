"""附件 over HTTP and on the pages: multipart upload, download, thumbnails, the hazard page's panel
and upload form, and the body limit that lets an attachment through but nothing else that large."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi")

from PIL import Image  # noqa: E402

from tests.evidence import HOSTILE, PDF, jpeg  # noqa: E402
from tests.test_api import ACTOR, assert_error, serve  # noqa: E402

HTML = {"accept": "text/html"}


@pytest.fixture
def api(ledger_url, own_catalogue) -> Iterator:
    with serve(ledger_url) as client:
        yield client


@pytest.fixture
def own_catalogue(monkeypatch):
    from tests.conftest import make_catalogue

    catalogue = make_catalogue()
    monkeypatch.setattr("qingdan.core.plugins.get_catalogue", lambda: catalogue)
    return catalogue


def new_hazard(client) -> str:
    response = client.post("/api/hazards", headers=ACTOR, json={
        "campaign": "fire", "unit": "南阳饭店", "description": "燃气管道老化", "found_on": "2020-09-01"})
    assert response.status_code == 201, response.text
    return response.json()["number"]


def upload(client, number: str, data: bytes, name: str = "现场.jpg", noun: str = "hazards", **form: str):
    return client.post(f"/api/{noun}/{quote(number)}/attach", headers=ACTOR,
                       files={"file": (name, data, "application/octet-stream")}, data=form)


def test_upload_list_download_and_thumbnail(api):
    number = new_hazard(api)
    photo = jpeg("red", size=(800, 600), taken="2020:08:30 08:00:00")
    response = upload(api, number, photo, kind="整改前", note="厨房", on="2020-09-02")
    assert response.status_code == 200, response.text
    sha = response.json()["sha256"]
    assert sha == hashlib.sha256(photo).hexdigest() and response.json()["number"] == number
    [row] = api.get(f"/api/hazards/{quote(number)}").json()["attachments"]
    assert (row["kind"], row["name"], row["on"], row["note"], row["width"]) == ("整改前", "现场.jpg", "2020-09-02", "厨房", 800)
    assert "早于排查日期" in row["warning"]
    assert api.get(f"/api/hazards/{quote(number)}?as_of=2020-09-01").json()["attachments"] == []
    download = api.get(f"/api/attachments/{sha}?name=整改前.jpg")
    assert download.content == photo and download.headers["content-type"] == "image/jpeg"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    assert download.headers["content-disposition"] == "inline; filename*=UTF-8''" + quote("整改前.jpg")
    thumb = api.get(f"/api/attachments/{sha}/thumbnail")
    assert thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 240
    document = upload(api, number, PDF, name="通知书.pdf", kind="文书").json()["sha256"]
    pdf = api.get(f"/api/attachments/{document}")
    assert pdf.headers["content-disposition"].startswith("attachment;") and pdf.content == PDF
    assert_error(api.get(f"/api/attachments/{document}/thumbnail"), 404, "NotFound")
    assert_error(api.get(f"/api/attachments/{'0' * 64}"), 404, "NotFound")
    assert api.get("/api/attachments/not-a-sha").status_code == 422


def test_a_measure_takes_its_document_over_http(api):
    response = api.post("/api/measures", headers=ACTOR, json={
        "campaign": "fire", "title": "消防值班制度", "department": "镇安监局"})
    number = response.json()["number"]
    assert upload(api, number, PDF, name="制度.pdf", noun="measures", kind="文书").status_code == 200
    assert api.get(f"/api/measures/{quote(number)}").json()["attachments"][0]["kind"] == "文书"


def test_hostile_uploads_are_refused_with_a_chinese_message(api):
    number = new_hazard(api)
    for name in ("exe", "script", "svg"):
        message = assert_error(upload(api, number, HOSTILE[name], name="照片.jpg"), 422, "InvalidCommand")
        assert "不能作为附件" in message
    assert "整改前" in assert_error(upload(api, number, jpeg(), kind="自拍"), 422, "InvalidCommand")
    no_actor = api.post(f"/api/hazards/{quote(number)}/attach", files={"file": ("a.jpg", jpeg())})
    assert no_actor.status_code == 401
    assert api.get(f"/api/hazards/{quote(number)}").json()["attachments"] == []


def test_an_upload_may_be_as_large_as_the_attachment_limit_and_no_larger(api, monkeypatch):
    number = new_hazard(api)
    big = PDF + b"%" * 1_500_000  # over the 1 MB limit of every other request
    assert upload(api, number, big, name="大文件.pdf", kind="文书").status_code == 200
    assert_error(api.post("/api/hazards", headers=ACTOR, content=b"{" + b" " * 1_500_000 + b"}",
                          params={}), 413, "PayloadTooLarge")


def test_the_upload_limit_follows_the_attachment_limit(ledger_url, own_catalogue, monkeypatch):
    monkeypatch.setenv("QINGDAN_ATTACHMENT_MAX_MB", "1")
    with serve(ledger_url) as client:
        number = new_hazard(client)
        assert_error(upload(client, number, PDF + b"%" * 1_200_000, name="大.pdf"), 413, "PayloadTooLarge")


# -- the pages ----------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path, own_catalogue) -> Iterator:
    from fastapi.testclient import TestClient

    from qingdan.web import create_app

    with TestClient(create_app(str(tmp_path / "web.db"), township="南阳镇"), headers=HTML) as client:
        yield client


def test_the_hazard_page_shows_thumbnails_and_takes_an_upload(site):
    number = new_hazard(site)
    page = site.get(f"/hazards/{quote(number)}").text
    assert 'id="attachments"' in page and "截至所选日期没有附件" in page
    assert f'action="/hazards/{number}/attach" enctype="multipart/form-data"' in page
    photo = jpeg("green", taken="2020:09:03 15:00:00", gps=(32.05, 118.79))
    response = site.post(f"/hazards/{quote(number)}/attach", follow_redirects=False,
                         headers={"origin": "http://testserver"},
                         files={"file": ("整改后.jpg", photo, "image/jpeg")},
                         data={"kind": "整改后", "actor": "王明", "note": "已更换管道"})
    assert response.status_code == 303 and response.headers["location"].endswith("#attachments")
    page = site.get(response.headers["location"]).text
    sha = hashlib.sha256(photo).hexdigest()
    assert "已添加附件（整改后）：整改后.jpg" in page
    assert f'src="/api/attachments/{sha}/thumbnail"' in page
    assert "拍摄：2020-09-03 15:00 · 位置 32.05000, 118.79000" in page and "已更换管道" in page
    assert site.get(f"/api/attachments/{sha}/thumbnail").status_code == 200
    refused = site.post(f"/hazards/{quote(number)}/attach", headers={"origin": "http://testserver"},
                        files={"file": ("a.jpg", HOSTILE["exe"], "image/jpeg")}, data={"actor": "王明"})
    assert "未能添加附件" in refused.text and "可执行程序" in refused.text
    foreign = site.post(f"/hazards/{quote(number)}/attach", headers={"origin": "http://evil.example"},
                        files={"file": ("b.jpg", jpeg("blue"), "image/jpeg")}, data={"actor": "王明"})
    assert foreign.status_code == 403
    assert site.get(f"/api/hazards/{quote(number)}").json()["attachments"][0]["sha256"] == sha
    assert len(site.get(f"/api/hazards/{quote(number)}").json()["attachments"]) == 1


def test_the_page_shows_what_was_attached_by_the_chosen_date(site):
    number = new_hazard(site)
    upload(site, number, jpeg("red"), kind="整改前", on="2020-09-02")
    assert "截至所选日期没有附件" in site.get(f"/hazards/{quote(number)}?as_of=2020-09-01").text
    assert "att-kind\">整改前" in site.get(f"/hazards/{quote(number)}?as_of=2020-09-02").text


def test_hazard_page_screenshot_in_a_real_browser(tmp_path, own_catalogue):
    """Look at it: the hazard page with photos and a document, in chromium (skips without one)."""
    from tests.test_pages import Server, chromium_binary

    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary — browser test skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    import qingdan
    from qingdan.web import create_app

    db = str(tmp_path / "shot.db")
    with qingdan.open_ledger(db, actor="镇安监局 王明") as ledger:
        number = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="后厨燃气管道老化锈蚀",
                                      found_on=qingdan.core.clock.system_now().date().replace(day=1))
        ledger.attach(number, data=jpeg("#b0413e", (640, 480), taken="2020:08:20 09:00:00", gps=(32.05, 118.79)),
                      name="整改前-燃气管.jpg", kind="整改前", note="管道锈蚀")
        ledger.attach(number, data=jpeg("#3e8e5e", (480, 640)), name="整改后.jpg", kind="整改后")
        ledger.attach(number, data=PDF, name="整改通知书.pdf", kind="文书")
    shots = Path(os.environ.get("QINGDAN_SCREENSHOTS") or tmp_path)
    with Server(create_app(db, township="南阳镇")) as base, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=binary, args=["--no-sandbox", "--lang=zh-CN"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            failures: list[str] = []
            page.on("requestfailed", lambda r: failures.append(r.url))
            page.goto(f"{base}/hazards/{number}#attachments")
            images = page.locator("#attachments img")
            assert images.count() == 2
            assert all(images.nth(i).evaluate("i => i.complete && i.naturalWidth > 0") for i in range(2))
            assert "早于排查日期" in page.locator("#attachments .att-warning").inner_text()
            page.locator("#attachments").screenshot(path=str(shots / "hazard-attachments.png"))
            page.locator("#step-attach > summary").click()
            assert page.locator("#f-attach-file").is_visible()
            page.screenshot(path=str(shots / "hazard-page.png"), full_page=True)
            assert failures == []
        finally:
            browser.close()
