"""A child's schedule from a date of birth; the commune profile, viewed and edited."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cchc_letters.errors import ProfileError
from cchc_letters.web import security
from cchc_letters.web.app import config_of, render

STATUS_TEXT = {
    "due_now": "cần tiêm ngay",
    "planned": "theo lịch",
    # (visits are always due_now or planned; doses without a date are in the notes)
    "catch_up": "không ghi ngày: trạm y tế lập kế hoạch tiêm bù",
    "switched_off": "tỉnh không triển khai",
}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def schedule(request: Request) -> Response:
    from cchc_letters.profile import load_profile
    from cchc_letters.schedule import child_schedule, load_versions, version_for

    config = config_of(request)
    params = request.query_params
    versions = load_versions()
    dob = _date(params.get("dob"))
    on = _date(params.get("date")) or config.today()
    chosen = params.get("schedule") or None
    error = None
    result = version = None
    if params.get("dob") and dob is None:
        error = "Ngày sinh không đúng dạng ngày."
    elif dob and dob > on:
        error = f"Ngày sinh {dob:%d/%m/%Y} sau ngày thư {on:%d/%m/%Y}."
    elif chosen and chosen not in {v.id for v in versions}:
        error = f"Không có phiên bản lịch {chosen!r}."
    elif dob:
        version = version_for(on, versions, chosen)
        result = child_schedule(dob, on, load_profile(config.profile_path), version)
    return render(
        request,
        "schedule.html",
        {
            "dob": dob,
            "on": on,
            "versions": versions,
            "chosen": chosen,
            "result": result,
            "version": version,
            "error": error,
            "status_text": STATUS_TEXT,
        },
        status=400 if error else 200,
    )


async def profile_page(request: Request) -> Response:
    from cchc_letters.profile import default_profile_path, load_profile
    from cchc_letters.profile_edit import save_profile_text

    config = config_of(request)
    path = config.profile_path or default_profile_path()
    error = None
    if request.method == "POST":
        form = await security.checked_form(request)
        text = str(form.get("text", ""))
        if config.profile_path is None:
            error = "Đang dùng hồ sơ mẫu (chỉ xem); khởi động với --profile hồ sơ của xã để sửa."
        else:
            try:
                save_profile_text(config.profile_path, text)
                return RedirectResponse("/profile?saved=1", status_code=303)
            except ProfileError as exc:
                error = exc.message + (f" — {exc.hint}" if exc.hint else "")
    else:
        text = path.read_text(encoding="utf-8")
    try:
        profile = load_profile(path)
    except ProfileError as exc:  # the file on disk was broken by hand: show it to be fixed
        profile, error = None, error or exc.message
    return render(
        request,
        "profile.html",
        {
            "path": path,
            "text": text,
            "profile": profile,
            "editable": config.profile_path is not None,
            "error": error,
            "saved": request.query_params.get("saved") == "1",
        },
        status=400 if error and request.method == "POST" else 200,
    )


routes = [
    Route("/schedule", schedule),
    Route("/profile", profile_page, methods=["GET", "POST"]),
]
