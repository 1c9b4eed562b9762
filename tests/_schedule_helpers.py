"""Helpers for the schedule tests: a commune profile with chosen session settings."""

from __future__ import annotations

from pathlib import Path

from cchc_letters.profile import Profile, default_profile_path, load_profile


def make_profile(
    tmp_path: Path,
    *,
    days: tuple[int, ...] = (5, 6),
    weekdays: tuple[str, ...] = (),
    rule: str = "next_session",
    extra: str = "",
) -> Profile:
    """Return the demo profile with its [vaccination_sessions] replaced, plus ``extra`` TOML."""
    text = default_profile_path().read_text(encoding="utf-8")
    head, _, rest = text.partition("[vaccination_sessions]")
    _, _, tail = rest.partition("[letters]")
    sessions = (
        "[vaccination_sessions]\n"
        f"days_of_month = {list(days)}\n"
        f"weekdays = {list(weekdays)!r}\n".replace("'", '"')
        + f'holiday_rule = "{rule}"\n\n'
    )
    path = tmp_path / "profile.toml"
    path.write_text(head + sessions + "[letters]" + tail + "\n" + extra, encoding="utf-8")
    return load_profile(path)
