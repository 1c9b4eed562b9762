"""Templates: upload an edited letter, see the check's findings beside its paragraphs and
its first page as a picture, and make it the commune's template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from cchc_letters.models import Kind
from cchc_letters.web import security
from cchc_letters.web.app import config_of, problem, render

if TYPE_CHECKING:
    from cchc_letters.templatelint import Finding


class _Meta(TypedDict):
    """An uploaded template's meta.json."""

    kind: str
    name: str  # the file name the officer uploaded
    layout: bool  # count its pages with LibreOffice


def _root(request: Request) -> Path:
    return config_of(request).private / "templates"


def _staged(request: Request) -> tuple[Path, _Meta]:
    """Return (the uploaded template, its meta) for the token in the path; 404 otherwise."""
    folder = _root(request) / security.token_or_404(request.path_params["token"])
    try:
        meta: _Meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise HTTPException(404, "Không tìm thấy mẫu thư đã tải lên.") from None
    return folder / "tpl" / f"{Kind(meta['kind']).value}.docx", meta


def _kind(value: object) -> Kind:
    try:
        return Kind(str(value))
    except ValueError:
        raise HTTPException(400, "Chọn loại thư: khai sinh, kết hôn hoặc khai tử.") from None


def templates_home(request: Request) -> Response:
    from cchc_letters.profile import load_profile
    from cchc_letters.render import template_path

    config = config_of(request)
    profile = load_profile(config.profile_path)
    current = {kind: template_path(kind, profile.templates_dir) for kind in Kind}
    return render(
        request,
        "templates_home.html",
        {
            "kinds": list(Kind),
            "current": current,
            "templates_dir": profile.templates_dir,
            "max_mb": security.MAX_FILE_BYTES // (1024 * 1024),
        },
    )


async def upload(request: Request) -> Response:
    form = await security.checked_form(request)
    try:
        return await _save_template(request, form)
    finally:
        await form.close()  # the uploaded parts' temporary files


async def _save_template(request: Request, form: FormData) -> Response:
    kind = _kind(form.get("kind"))
    files = security.uploaded_files(form, "template")
    if len(files) != 1:
        return problem(request, "Chọn một tệp mẫu thư (.docx).")
    token = security.new_token()
    folder = _root(request) / token
    try:
        await security.save_upload(files[0], folder / "tpl", kind.value, security.TEMPLATE_KINDS)
    except security.UploadRefused as exc:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        return problem(request, str(exc), "Lưu mẫu thư trong Word dạng .docx.", 400)
    meta: _Meta = {
        "kind": kind.value,
        "name": security.display_name(files[0].filename or ""),
        "layout": form.get("layout") == "on",
    }
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return RedirectResponse(f"/templates/{token}", status_code=303)


def _place(
    findings: list[Finding], texts: list[str]
) -> tuple[dict[int, list[Finding]], list[Finding]]:
    """Return findings by the paragraph they quote (``near``), and the others."""
    by_paragraph: dict[int, list[Finding]] = {}
    loose: list[Finding] = []
    for finding in findings:
        near = (finding.near or "").strip("…").strip()
        index = next((i for i, t in enumerate(texts) if near and near in t), None)
        if index is None and finding.name:
            index = next((i for i, t in enumerate(texts) if finding.name in t), None)
        if index is None:
            loose.append(finding)
        else:
            by_paragraph.setdefault(index, []).append(finding)
    return by_paragraph, loose


def staged_page(request: Request) -> Response:
    from cchc_letters.pdf import find_soffice
    from cchc_letters.profile import load_profile
    from cchc_letters.template_files import paragraphs
    from cchc_letters.templatecheck import check_templates

    path, meta = _staged(request)
    kind = Kind(meta["kind"])
    config = config_of(request)
    profile = load_profile(config.profile_path)
    report = check_templates(
        path.parent, kinds={kind}, profile=profile, layout=bool(meta.get("layout"))
    )
    findings = [f for f in report.findings if f.code != "default_used"]
    try:
        texts = paragraphs(path)
    except Exception:  # noqa: BLE001 — a broken file: its findings say why
        texts = []
    by_paragraph, loose = _place(findings, texts)
    return render(
        request,
        "template.html",
        {
            "token": request.path_params["token"],
            "meta": meta,
            "kind": kind,
            "report": report,
            "findings": findings,
            "paragraphs": [(i, t, by_paragraph.get(i, [])) for i, t in enumerate(texts)],
            "loose": loose,
            "can_picture": find_soffice() is not None,
            "can_adopt": config.profile_path is not None,
        },
    )


def staged_picture(request: Request) -> Response:
    from cchc_letters.pictures import making

    path, meta = _staged(request)
    long = request.query_params.get("long") == "1"
    if request.query_params.get("data") == "real":
        return _real_picture(request, path, Kind(meta["kind"]))
    folder = path.parent.parent / ("preview-long" if long else "preview")
    png = folder / "page-1.png"
    with making(folder):  # (asked for twice at once: made once)
        if not png.is_file():
            _make_preview(request, path, Kind(meta["kind"]), png, long=long)
    return FileResponse(png, media_type="image/png")


def _make_preview(request: Request, template: Path, kind: Kind, png: Path, *, long: bool) -> None:
    """Make page 1 of ``template``'s preview letter (its sample data) as ``png``."""
    from cchc_letters.pictures import pdf_page_png
    from cchc_letters.templatecheck import render_preview

    config = config_of(request)
    result = render_preview(
        kind,
        out=png.parent / f"preview-{kind.value}.docx",
        template=template,
        profile_path=config.profile_path,
        pdf=True,
        letter_date=config.today(),
        long=long,
    )
    if result.pdf is None:
        raise HTTPException(503, result.pdf_message or "Không tạo được PDF.")
    pdf_page_png(result.pdf, 1, png)


def _real_picture(request: Request, template: Path, kind: Kind) -> Response:
    """Page 1 with the first registration of ``kind`` in the latest upload of exports."""
    from cchc_letters.pdf import convert_to_pdf
    from cchc_letters.pictures import making, pdf_page_png
    from cchc_letters.template_files import write_letter_for
    from cchc_letters.web.pages_batch import latest_registration

    config = config_of(request)
    registration = latest_registration(request, kind)
    if registration is None:
        raise HTTPException(404, f"Chưa tải lên tệp xuất nào có hồ sơ {kind.vietnamese}.")
    folder = template.parent.parent / "preview-real"
    with making(folder):  # (asked for twice at once: made one after the other)
        letter = write_letter_for(
            template,
            registration,
            profile_path=config.profile_path,
            letter_date=config.today(),
            out=folder / f"real-{kind.value}.docx",
        )
        (pdf,) = convert_to_pdf([letter], folder)
        png = pdf_page_png(pdf, 1, folder / "page-1.png")
    return FileResponse(png, media_type="image/png")


async def adopt(request: Request) -> Response:
    from cchc_letters.pipeline import local_now
    from cchc_letters.template_files import install_template

    await security.checked_form(request)
    path, meta = _staged(request)
    config = config_of(request)
    if config.profile_path is None:
        return problem(
            request,
            "Chương trình đang dùng hồ sơ mẫu nên chưa thể đặt mẫu thư riêng cho xã.",
            "Khởi động lại với: cchc-letters serve --profile HỒ_SƠ_XÃ.toml",
        )
    target, backup = install_template(
        path, Kind(meta["kind"]), profile_path=config.profile_path, now=local_now()
    )
    return render(request, "template_adopted.html", {"target": target, "backup": backup})


routes = [
    Route("/templates", templates_home),
    Route("/templates/upload", upload, methods=["POST"]),
    Route("/templates/{token}", staged_page),
    Route("/templates/{token}/page.png", staged_picture),
    Route("/templates/{token}/adopt", adopt, methods=["POST"]),
]
