"""The office app through Starlette's test client: every page, every form, CSRF, login,
upload limits, path traversal, and what reaches the server's log."""

from __future__ import annotations

import logging
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from docx_edit import default_template, replace_text, rewrite_document, write_profile
from docx_helpers import letters_text
from starlette.routing import Route
from web_helpers import (
    LETTER_DATE,
    SAMPLE_EXPORT,
    csrf_of,
    generate,
    make_client,
    upload_export,
)

from cchc_letters.ledger import Ledger, default_path
from cchc_letters.web import security


@pytest.fixture
def out(tmp_path):
    return tmp_path / "out"


@pytest.fixture
def client(out):
    with make_client(out) as c:
        yield c


def test_pages_render_in_vietnamese(client):
    for page, words in {
        "/batch": "Tải lên tệp xuất từ sổ hộ tịch",
        "/templates": "Mẫu thư đang dùng",
        "/ledger": "Chưa có sổ theo dõi",
        "/schedule": "Lịch tiêm chủng của trẻ",
        "/profile": "Ủy ban nhân dân xã Ngãi Giao",
    }.items():
        response = client.get(page)
        assert response.status_code == 200, page
        assert words in response.text, page
        assert 'lang="vi"' in response.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/batch"


def test_assets_are_served_from_the_package_and_nothing_from_outside(client):
    page = client.get("/batch").text
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:css|js))"', page)
    assert sorted(assets) == ["/static/app.css", "/static/app.js"]
    for asset in assets:
        assert client.get(asset).status_code == 200
    for template in (Path(security.__file__).parent / "templates").glob("*.html"):
        assert "http://" not in template.read_text() and "https://" not in template.read_text()


def test_upload_shows_what_was_understood_and_the_rejected_row_with_its_cell(client, out):
    response = upload_export(client)
    assert response.status_code == 200
    page = response.text
    assert re.search(r"/batch/[0-9a-f]{16}$", str(response.url))
    # what was understood: field <- heading, per file and sheet
    assert "so-dang-ky-khai-sinh-2026.xlsx" in page
    assert re.search(
        r"<code>child_birth_date</code></td><td>←</td><td>Người được khai sinh / Ngày, tháng, năm sinh",
        page,
    )
    assert "tiêu đề ở dòng 5, 6" in page
    # the counts, and the rejected row with its reason and the empty cell highlighted
    assert re.search(r'id="to-print">2<', page) and re.search(r'id="rejected-count">1<', page)
    assert "dòng 10" in page and "Thiếu ngày sinh của trẻ" in page
    assert '<td class="bad">(trống)</td>' in page
    assert '<th class="bad">Người được khai sinh / Ngày, tháng, năm sinh</th>' in page
    assert "LÝ MINH KHÔI" in page  # the row as read, so the officer recognises it


def test_generate_then_download_the_print_file_and_its_letters(client, out, tmp_path):
    intake = str(upload_export(client).url.path)
    status = generate(client, intake)
    assert status["state"] == "done", status
    batch = status["batch"]
    assert batch == "batch-2026-11-27-001"
    page = client.get(f"/batches/{batch}")
    assert page.status_code == 200
    assert "Anh Phan Văn Lộc và chị Ngô Thị Thu Hà" in page.text
    assert f"/letters/{batch}/khai-sinh-001.docx/2" in page.text
    download = client.get(f"/files/{batch}/khai-sinh-001.docx")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment")
    saved = tmp_path / "downloaded.docx"
    saved.write_bytes(download.content)
    letters = letters_text(saved)
    assert len(letters) == 2
    assert "Phan Ngọc Bảo Anh" in letters[0] and "ngày 27 tháng 11 năm 2026" in letters[0]
    assert "LÝ MINH KHÔI".title() not in "".join(letters)  # the rejected row got no letter
    rejects = client.get(f"/files/{batch}/rejects.csv").content.decode("utf-8-sig")
    assert "Thiếu ngày sinh của trẻ" in rejects
    # the same ledger as the CLI: both letters recorded
    with Ledger.open(default_path(out), create=False) as book:
        assert len(book.entries()) == 2


def test_second_upload_shows_already_printed_and_generates_nothing(client):
    generate(client, str(upload_export(client).url.path))
    again = upload_export(client)
    assert re.search(r'id="already-count">2<', again.text)
    assert re.search(r'id="to-print">0<', again.text)
    assert 'id="generate" disabled' in again.text
    status = generate(client, str(again.url.path))
    assert status["state"] == "done" and status["batch"] is None


def test_changed_record_is_shown_and_reprinted_only_when_asked(client, tmp_path):
    first = tmp_path / "khai-sinh.csv"
    header = "Số đăng ký,Quyển số,Ngày đăng ký,Họ tên trẻ,Ngày sinh,Giới tính,Họ tên mẹ\n"
    first.write_text(
        header + "7,01/2026,20/11/2026,Trần Bảo Ngọc,01/11/2026,Nữ,Lê Thị Lan\n", encoding="utf-8"
    )
    generate(client, str(upload_export(client, first).url.path))
    first.write_text(
        header + "7,01/2026,20/11/2026,Trần Bảo Ngọc,02/11/2026,Nữ,Lê Thị Lan\n", encoding="utf-8"
    )
    again = upload_export(client, first)
    assert re.search(r'id="changed-count">1<', again.text), again.text
    assert 'name="reprint_changed"' in again.text
    status = generate(client, str(again.url.path), reprint_changed="on")
    assert status["batch"] == "batch-2026-11-27-002"


def test_unknown_heading_is_mapped_by_choosing_its_field(client, out, tmp_path):
    export = tmp_path / "ket-hon.csv"
    export.write_text(
        "Số đăng ký,Ngày đăng ký,Họ tên chồng,Họ tên vợ,Ông xã sinh năm\n"
        "3,20/11/2026,Nguyễn Văn An,Phạm Thị Bình,1990\n",
        encoding="utf-8",
    )
    page = upload_export(client, export)
    assert "Ông xã sinh năm" in page.text and "Cột chưa nhận ra" in page.text
    heading = re.search(r'name="(heading-\d+)" value="Ông xã sinh năm"', page.text)[1]
    number = heading.removeprefix("heading-")
    response = client.post(
        str(page.url.path) + "/mapping",
        data={
            "csrf": csrf_of(client),
            heading: "Ông xã sinh năm",
            f"field-{number}": "husband_birth",
        },
    )
    assert response.status_code == 200
    assert re.search(r"<code>husband_birth</code></td><td>←</td><td>Ông xã sinh năm", response.text)
    mapping = (out / "column-mapping.toml").read_text(encoding="utf-8")
    assert '[fields.husband_birth]\nheadings = ["Ông xã sinh năm"]' in mapping
    # the same file works with the CLI's --mapping
    from cchc_letters.ingest import read_inputs

    read = read_inputs([export], mapping=out / "column-mapping.toml")
    assert read.rows[0].value("husband_birth") == "1990"


def test_mapping_to_a_field_that_does_not_exist_is_refused(client, out, tmp_path):
    export = tmp_path / "x.csv"
    export.write_text(
        "Số đăng ký,Ngày đăng ký,Họ tên chồng,Họ tên vợ,Khác\n3,20/11/2026,A B,C D,1\n",
        encoding="utf-8",
    )
    page = upload_export(client, export)
    response = client.post(
        str(page.url.path) + "/mapping",
        data={"csrf": csrf_of(client), "heading-1": "Khác", "field-1": "no_such_field"},
    )
    assert response.status_code == 400 and "no_such_field" in response.text
    assert not (out / "column-mapping.toml").exists()


# ---- CSRF, login ---------------------------------------------------------------------


def _post_routes(app):
    found = []
    for route in app.routes:
        if isinstance(route, Route) and "POST" in (route.methods or ()):
            found.append(route.path)
    return found


def test_every_post_is_refused_without_the_csrf_token(client):
    intake = str(upload_export(client).url.path).rsplit("/", 1)[-1]
    paths = _post_routes(client.app)
    assert (
        len(paths) >= 9
    )  # upload, mapping, generate, template upload/adopt, forget, profile, login, logout
    for path in paths:
        url = path.replace("{token}", intake)
        for data in ({}, {"csrf": "wrong"}):
            response = client.post(url, data=data)
            assert response.status_code == 403, (url, data)
            assert "CSRF" in response.text
    assert len(list((client.app.state.config.private / "uploads").iterdir())) == 1


def test_csrf_token_belongs_to_the_session(out):
    with make_client(out) as one, make_client(out) as other:
        token = csrf_of(one)
        csrf_of(other)  # a session of its own
        response = other.post(
            "/batch/upload",
            data={"csrf": token},
            files=[("files", ("a.csv", b"x,y\n1,2\n", "text/csv"))],
        )
        assert response.status_code == 403


def test_with_a_password_every_page_needs_a_login(out):
    with make_client(out, password="mật khẩu 1") as c:
        for page in (
            "/batch",
            "/ledger",
            "/templates",
            "/profile",
            "/schedule",
            "/files/reports/x.csv",
        ):
            response = c.get(page, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"] == "/login", page
        assert c.post("/batch/upload", data={}).status_code == 403
        assert c.get("/static/app.css").status_code == 200
        token = csrf_of(c, "/login")
        wrong = c.post("/login", data={"csrf": token, "password": "sai"})
        assert wrong.status_code == 403 and 'id="wrong-password"' in wrong.text
        assert c.get("/batch", follow_redirects=False).status_code == 303
        right = c.post("/login", data={"csrf": token, "password": "mật khẩu 1"})
        assert right.status_code == 200 and "Lô thư hôm nay" in right.text
        assert c.get("/ledger").status_code == 200
        c.post("/logout", data={"csrf": csrf_of(c)})
        assert c.get("/batch", follow_redirects=False).status_code == 303


def test_login_needs_the_csrf_token_too(out):
    with make_client(out, password="pw") as c:
        csrf_of(c, "/login")
        assert c.post("/login", data={"password": "pw"}).status_code == 403
        assert c.get("/batch", follow_redirects=False).status_code == 303


# ---- uploads -------------------------------------------------------------------------


def _post_file(client, name, content, field="files", url="/batch/upload", **data):
    return client.post(
        url,
        data={"csrf": csrf_of(client), **data},
        files=[(field, (name, content, "application/octet-stream"))],
    )


def test_upload_of_another_kind_of_file_is_refused(client, out):
    for name, content in (
        ("virus.exe", b"MZ\x90\x00"),
        ("so.xlsx", "Số đăng ký,Ngày\n".encode()),  # not a workbook: content must match the suffix
        ("so.csv", b"\x00\x01\x02\x03binary"),
        ("empty.csv", b""),
    ):
        response = _post_file(client, name, content)
        assert response.status_code == 400, name
        assert name in response.text
    uploads = out / ".cchc-web" / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_upload_larger_than_the_limit_is_refused(client, out, monkeypatch):
    monkeypatch.setattr(security, "MAX_FILE_BYTES", 1000)
    response = _post_file(client, "big.csv", b"a,b\n" + b"1,2\n" * 400)
    assert response.status_code == 413 and "quá lớn" in response.text
    assert not any((out / ".cchc-web" / "uploads").iterdir())


def test_request_body_over_the_limit_is_refused_before_it_is_read(out):
    from starlette.testclient import TestClient

    from cchc_letters.web import WebConfig, create_app

    app = create_app(WebConfig(out_dir=out))
    # the limit is fixed when the app is built: make one with a small limit
    for layer in app.user_middleware:
        if layer.cls is security.BodyLimit:
            layer.kwargs["limit"] = 2000
    with TestClient(app) as c:
        response = _post_file(c, "a.csv", b"x" * 5000)
        assert response.status_code == 413
        assert not (out / ".cchc-web" / "uploads").exists()


def test_too_many_files_are_refused(client):
    token = csrf_of(client)
    files = [
        ("files", (f"{n}.csv", b"a,b\n1,2\n", "text/csv")) for n in range(security.MAX_FILES + 1)
    ]
    response = client.post("/batch/upload", data={"csrf": token}, files=files)
    assert response.status_code == 400


def test_browser_file_names_never_reach_the_disk(client, out):
    response = _post_file(
        client, "../../../../tmp/evil name.csv", SAMPLE_EXPORT.read_bytes()[:0] + b"So dang ky\n1\n"
    )
    assert response.status_code == 200
    folder = out / ".cchc-web" / "uploads" / str(response.url.path).rsplit("/", 1)[-1]
    stored = sorted(p.name for p in folder.iterdir())
    assert stored == ["1-evil-name.csv", "meta.json"]
    assert not (out.parent / "evil name.csv").exists()
    assert "evil name.csv" in response.text  # shown by its own name, last part only


# ---- downloads and pictures only from OUT's batch folders ----------------------------


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """An app whose OUT has a printed batch and, beside it, what no URL may reach: another
    folder's file, a file above OUT, a hidden file and a symlink to the ledger in the batch.
    (One for all the requests below: they only read.)"""
    out = tmp_path_factory.mktemp("planted") / "out"
    with make_client(out) as client:
        generate(client, str(upload_export(client).url.path))
        (out / "other-folder").mkdir()
        (out / "other-folder" / "manifest.csv").write_text("secret")
        (out.parent / "secret.docx").write_bytes(b"PK")
        (out / "batch-2026-11-27-001" / ".hidden").write_text("x")
        (out / "batch-2026-11-27-001" / "link.csv").symlink_to(default_path(out))
        yield client


@pytest.mark.parametrize(
    "url",
    [
        "/files/batch-2026-11-27-001/..%2Fledger.sqlite3",
        "/files/batch-2026-11-27-001/%2E%2E%2Fledger.sqlite3",
        "/files/..%2F..%2Fetc/passwd",
        "/files/batch-2026-11-27-001/../../ledger.sqlite3",
        "/files/.cchc-web/meta.json",
        "/files/reports/..%5Cledger.sqlite3",
        "/files/batch-2026-11-27-001/.hidden",
        "/files/batch-2026-11-27-001/%00manifest.csv",
        "/files/other-folder/manifest.csv",
        "/pictures/batch-2026-11-27-001/..%2F..%2Fsecret.docx/1.png",
        "/letters/batch-2026-11-27-001/..%2Fledger.sqlite3/1",
        "/batch/..%2F..%2F..%2Fetc",
        "/batch/0123456789abcdef",
        "/templates/..%2Fuploads",
        "/jobs/0123456789abcdef",
    ],
)
def test_path_traversal_is_not_found(planted, url):
    response = planted.get(url)
    assert response.status_code == 404, response.text
    assert "sqlite" not in response.headers.get("content-type", "")


def test_a_symlink_out_of_the_batch_folder_is_not_followed(planted):
    assert planted.get("/files/batch-2026-11-27-001/link.csv").status_code == 404


# ---- ledger --------------------------------------------------------------------------


def test_ledger_search_history_and_reprint(client, out):
    generate(client, str(upload_export(client).url.path))
    found = client.get("/ledger", params={"q": "ngo thi thu ha"})  # accents and case ignored
    assert found.status_code == 200
    assert "Anh Phan Văn Lộc và chị Ngô Thị Thu Hà" in found.text
    assert "Đinh Quang Vinh" not in found.text
    key = re.search(r"/ledger/history\?key=([^\"]+)\"", found.text)[1]
    by_date = client.get("/ledger", params={"q": "23/11/2026"})  # its registration date
    assert "Ngô Thị Thu Hà" in by_date.text and "Đinh Quang Vinh" not in by_date.text
    history = client.get(f"/ledger/history?key={key}")
    assert history.status_code == 200 and "batch-2026-11-27-001" in history.text
    assert 'id="forget"' in history.text
    plain_key = re.search(r'name="key" value="([^"]+)"', history.text)[1]
    response = client.post("/ledger/forget", data={"csrf": csrf_of(client), "key": plain_key})
    assert response.status_code == 200 and 'id="forgotten"' in response.text
    assert "forgotten" in response.text and 'id="forget"' not in response.text
    with Ledger.open(default_path(out), create=False) as book:
        assert book.printed([plain_key]) == {}
    # printed again by the next batch of the same export
    status = generate(client, str(upload_export(client).url.path))
    assert status["batch"] == "batch-2026-11-27-002"


def test_history_of_a_bad_key_is_a_plain_message(client):
    generate(client, str(upload_export(client).url.path))
    response = client.get("/ledger/history", params={"key": "not a key"})
    assert response.status_code == 400
    assert "Traceback" not in response.text and 'id="problem"' in response.text


# ---- schedule, profile ---------------------------------------------------------------


def test_schedule_of_a_child(client):
    response = client.get("/schedule", params={"dob": "2026-11-09", "date": "2026-11-27"})
    assert response.status_code == 200
    assert "Sinh ngày 09/11/2026, tính đến 27/11/2026" in response.text
    assert "Lao BCG" in response.text and "05/12/2026" in response.text
    late = client.get("/schedule", params={"dob": "2026-12-09", "date": "2026-11-27"})
    assert late.status_code == 400 and "sau ngày thư" in late.text


def test_default_profile_is_view_only(client):
    page = client.get("/profile")
    assert "chỉ xem" in page.text and "<textarea" not in page.text
    response = client.post("/profile", data={"csrf": csrf_of(client), "text": "x"})
    assert response.status_code == 400


def test_profile_edit_is_checked_like_the_cli(out, tmp_path):
    profile = write_profile(tmp_path)
    before = profile.read_text(encoding="utf-8")
    with make_client(out, profile_path=profile) as c:
        page = c.get("/profile")
        assert "<textarea" in page.text
        broken = before.replace('unit_kind = "xã"', 'unit_kind = "làng"')
        assert broken != before
        response = c.post("/profile", data={"csrf": csrf_of(c), "text": broken})
        assert response.status_code == 400
        assert "unit_kind phải là một trong" in response.text and str(profile) in response.text
        assert profile.read_text(encoding="utf-8") == before
        changed = before.replace("Nguyễn Văn Minh", "Trần Thị Hoa")
        assert changed != before
        saved = c.post("/profile", data={"csrf": csrf_of(c), "text": changed})
        assert (
            saved.status_code == 200 and 'id="saved"' in saved.text and "Trần Thị Hoa" in saved.text
        )
    from cchc_letters.profile import load_profile

    assert load_profile(profile).signer_name == "Trần Thị Hoa"
    assert (tmp_path / (profile.name + ".bak")).read_text(encoding="utf-8") == before


# ---- templates -----------------------------------------------------------------------


def _upload_template(client, kind, path, **data):
    return _post_file(
        client,
        f"{kind}.docx",
        path.read_bytes(),
        field="template",
        url="/templates/upload",
        kind=kind,
        **data,
    )


def test_broken_template_shows_the_finding_beside_its_paragraph(client, tmp_path):
    broken = rewrite_document(
        default_template("death"),
        (tmp_path / "x").mkdir() or tmp_path / "x" / "death.docx",
        replace_text("{{ deceased.name }}", "{{ deceased.nam }}"),
    )
    response = _upload_template(client, "death", broken)
    assert response.status_code == 200
    page = response.text
    assert "1 lỗi" in page
    paragraph = re.search(
        r'<div class="paragraph has-finding"><p>([^<]*)</p>\s*<p class="finding error">([^<]*)',
        page,
    )
    assert paragraph, page
    assert "deceased.nam" in paragraph[1] and "deceased.nam" in paragraph[2]
    assert "<code>deceased.name</code>" in page  # did you mean
    assert 'id="adopt"' not in page


def test_template_that_is_no_docx_is_refused(client):
    response = _post_file(
        client, "birth.docx", b"not a zip", field="template", url="/templates/upload", kind="birth"
    )
    assert response.status_code == 400


def test_good_template_becomes_the_communes_template(out, tmp_path):
    profile = write_profile(tmp_path)
    edited = rewrite_document(
        default_template("birth"),
        (tmp_path / "x").mkdir() or tmp_path / "x" / "birth.docx",
        replace_text("THƯ CHÚC MỪNG", "THƯ CHÚC MỪNG CHÁU"),
    )
    with make_client(out, profile_path=profile) as c:
        page = _upload_template(c, "birth", edited)
        assert "Mẫu thư dùng được" in page.text and 'id="adopt"' in page.text
        adopt_url = re.search(r'action="(/templates/[0-9a-f]{16}/adopt)"', page.text)[1]
        done = c.post(adopt_url, data={"csrf": csrf_of(c)})
        assert done.status_code == 200 and 'id="adopted"' in done.text
        # again: the first adopted one is kept as a backup
        again = c.post(adopt_url, data={"csrf": csrf_of(c)})
        assert "bak-" in again.text
    from cchc_letters.profile import load_profile

    loaded = load_profile(profile)
    assert loaded.templates_dir == (tmp_path / "mau-thu").resolve()
    installed = loaded.templates_dir / "birth.docx"
    assert installed.read_bytes() == edited.read_bytes()
    assert len(list(loaded.templates_dir.glob("birth.docx.bak-*"))) == 1


def test_template_cannot_be_adopted_without_a_commune_profile(client, tmp_path):
    good = shutil.copy(default_template("birth"), tmp_path / "birth.docx")
    page = _upload_template(client, "birth", Path(good))
    adopt_url = str(page.url.path) + "/adopt"
    response = client.post(adopt_url, data={"csrf": csrf_of(client)})
    assert response.status_code == 400 and "--profile" in response.text


# ---- the server's log ----------------------------------------------------------------


def test_no_names_or_id_numbers_in_the_server_log(client, out, caplog, tmp_path):
    export = tmp_path / "khai-tu.csv"
    export.write_text(
        "Số đăng ký,Ngày đăng ký,Họ tên người chết,Ngày chết,Số định danh cá nhân,Giới tính,Ngày sinh\n"
        "4,20/11/2026,Hoàng Văn Thụ,18/11/2026,001045012345,Nam,01/01/1945\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.INFO, logger="cchc_letters"):
        intake = str(upload_export(client, export, name="Hoàng Văn Thụ.csv").url.path)
        generate(client, intake)
        client.get("/ledger", params={"q": "Hoàng Văn Thụ"})
        client.get("/ledger", params={"q": "001045012345"})
    logged = caplog.text
    assert "GET /ledger 200" in logged  # requests are logged …
    for secret in ("Hoàng", "Thụ", "hoang", "001045012345"):  # … without who they are about
        assert secret not in logged
    day_logs = list(out.glob("**/cchc-letters-*.log"))
    assert day_logs
    for log in day_logs:
        text = log.read_text(encoding="utf-8")
        assert "Hoàng" not in text and "001045012345" not in text


def test_unexpected_error_is_a_plain_page_and_logged_by_type_only(client, caplog, monkeypatch):
    from cchc_letters.web import pages_other

    def broken(*args, **kwargs):
        raise ValueError("Nguyễn Thị Bí Mật 079123456789")

    monkeypatch.setattr("cchc_letters.schedule.child_schedule", broken)
    with caplog.at_level(logging.INFO, logger="cchc_letters"):
        response = client.get("/schedule", params={"dob": "2026-11-09", "date": "2026-11-27"})
    assert response.status_code == 500 and "Lỗi không mong đợi" in response.text
    assert "Bí Mật" not in response.text and "Traceback" not in response.text
    assert "unexpected ValueError" in caplog.text and "Bí Mật" not in caplog.text
    assert pages_other  # the module whose call failed


# ---- pictures (LibreOffice) ----------------------------------------------------------


def test_a_letter_as_a_picture_of_its_page(client):
    from docx_edit import require_soffice

    require_soffice()
    status = generate(client, str(upload_export(client).url.path))
    page = client.get(f"/letters/{status['batch']}/khai-sinh-001.docx/2")
    assert page.status_code == 200 and "Đinh Quang Vinh" in page.text
    assert 'id="page"' in page.text
    picture = client.get(f"/pictures/{status['batch']}/khai-sinh-001.docx/2.png")
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(picture.content))
    assert image.width == 900 and 1.3 < image.height / image.width < 1.5  # an A4 page
    assert client.get(f"/pictures/{status['batch']}/khai-sinh-001.docx/3.png").status_code == 400


def test_template_page_one_as_a_picture(client, tmp_path):
    from docx_edit import require_soffice

    require_soffice()
    good = shutil.copy(default_template("marriage"), tmp_path / "marriage.docx")
    page = _upload_template(client, "marriage", Path(good))
    picture = client.get(str(page.url.path) + "/page.png")
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")


def test_docx_written_by_the_app_is_a_zip_word_opens(client, tmp_path):
    status = generate(client, str(upload_export(client).url.path))
    data = client.get(f"/files/{status['batch']}/khai-sinh-001.docx").content
    path = tmp_path / "a.docx"
    path.write_bytes(data)
    assert zipfile.ZipFile(path).testzip() is None
    assert LETTER_DATE.year == 2026


# ---- the same lock as the CLI --------------------------------------------------------


def test_a_cli_run_holding_the_lock_stops_the_browser_batch_printing_twice(out):
    from cchc_letters import locking

    with make_client(out, lock_wait=0.2) as c:
        intake = str(upload_export(c).url.path)
        out.mkdir(parents=True, exist_ok=True)
        with locking.hold([locking.lock_path_for(out)], wait=1, what=str(out)):
            status = generate(c, intake)
        assert status["state"] == "failed"
        page = c.get(f"/jobs/{_last_job(c)}")
        assert "một lần chạy khác đang dùng" in page.text
        assert not list(out.glob("batch-*"))
        status = generate(c, intake)  # once the CLI run is over, it prints
        assert status["batch"] == "batch-2026-11-27-001"


def _last_job(client) -> str:
    return list(client.app.state.config.jobs)[-1]


def test_pdf_of_the_print_file_is_offered_for_download(client):
    from docx_edit import require_soffice

    require_soffice()
    status = generate(client, str(upload_export(client).url.path), pdf="on")
    page = client.get(f"/batches/{status['batch']}")
    assert f"/files/{status['batch']}/khai-sinh-001.pdf" in page.text
    pdf = client.get(f"/files/{status['batch']}/khai-sinh-001.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_template_page_one_with_real_data_from_the_latest_upload(client, tmp_path):
    from docx_edit import require_soffice

    require_soffice()
    good = shutil.copy(default_template("birth"), tmp_path / "birth.docx")
    page = _upload_template(client, "birth", Path(good))
    url = str(page.url.path) + "/page.png?data=real"
    assert client.get(url).status_code == 404  # nothing uploaded yet: says so
    upload_export(client)
    with_data = client.get(str(page.url.path), params={"data": "real"})
    assert 'page.png?data=real"' in with_data.text
    picture = client.get(url)
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    (letter,) = client.app.state.config.private.glob("templates/*/preview-real/real-birth.docx")
    assert "Phan Ngọc Bảo Anh" in letters_text(letter)[0]  # the first good row of the export


# ---- the inbox of `watch` ------------------------------------------------------------


def test_exports_waiting_in_the_inbox_are_picked_made_into_a_batch_and_moved(out, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    waiting = inbox / "so khai sinh.xlsx"
    shutil.copy(SAMPLE_EXPORT, waiting)
    (inbox / "~$so khai sinh.xlsx").write_bytes(b"owner file")  # Excel's: not offered
    (out.parent / "secret.csv").write_text("Số đăng ký\n1\n", encoding="utf-8")
    with make_client(out, inbox=inbox) as c:
        home = c.get("/batch")
        assert 'value="so khai sinh.xlsx"' in home.text and "~$" not in home.text
        token = csrf_of(c)
        # a name that is not one of the inbox's own files is ignored, never opened
        nothing = c.post("/batch/inbox", data={"csrf": token, "pick": "../secret.csv"})
        assert nothing.status_code == 400
        picked = c.post("/batch/inbox", data={"csrf": token, "pick": "so khai sinh.xlsx"})
        assert picked.status_code == 200 and re.search(r'id="to-print">2<', picked.text)
        assert waiting.exists()  # still there until its batch is written
        status = generate(c, str(picked.url.path))
        assert status["batch"] == "batch-2026-11-27-001"
    assert not waiting.exists()
    assert (
        inbox / "processed" / "2026-11-27" / "so khai sinh.xlsx"
    ).read_bytes() == SAMPLE_EXPORT.read_bytes()
    assert (inbox / "~$so khai sinh.xlsx").exists()


def test_without_an_inbox_the_page_offers_none(client):
    assert 'id="inbox-form"' not in client.get("/batch").text
    assert client.post("/batch/inbox", data={"csrf": csrf_of(client)}).status_code == 404
