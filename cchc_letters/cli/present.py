"""How a batch result is shown: one presentation, shared by `generate` and `watch`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from cchc_letters.models import BatchResult, Kind

if TYPE_CHECKING:
    from cchc_letters.delivery import DeliverySheet


def _present_kinds(result: BatchResult) -> None:
    """The demo-profile note and the letters of each kind (a table on a terminal)."""
    echo = typer.echo
    if result.profile_is_default:
        echo(f"Hồ sơ xã: dùng hồ sơ mẫu {result.profile_path} (đặt --profile cho xã của bạn)")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        title = f"Lô thư {result.batch_dir.name}" if result.batch_dir else "Không có thư mới"
        table = Table(title=title)
        table.add_column("Loại thư")
        table.add_column("Số thư", justify="right")
        for kind in Kind:
            table.add_row(f"Thư {kind.vietnamese}", str(result.letters.get(kind, 0)))
        Console().print(table)
    else:
        for kind in Kind:
            echo(f"{kind.value}: {result.letters.get(kind, 0)} thư")


def present_batch(result: BatchResult, *, source: str | None = None) -> None:
    """Show what a batch did: letters per kind, counts, files, delivery sheet, what the
    ledger settled, PDFs, rejected rows. ``source`` (watch: the export's name) heads it
    and leaves out the per-kind table."""
    echo = typer.echo
    if source is None:
        _present_kinds(result)
    counts = (
        f"Đã đọc {result.rows_read} dòng: {sum(result.letters.values())} thư, "
        f"{result.skipped_already_printed} đã in trước đó, {len(result.changed)} thay đổi, "
        f"{result.rejected} dòng bị loại, {result.duplicates} dòng trùng lặp."
    )
    echo(f"{source}: {counts}" if source else counts)
    if result.batch_dir:
        echo(f"Lô thư: {result.batch_dir}")
    for path in result.files:
        echo(f"In: {path}")
    _present_delivery(result.delivery)
    _present_ledger(result)
    for path in result.pdf_files:
        echo(f"PDF: {path}")
    if result.pdf_message:
        echo(f"PDF: {result.pdf_message}", err=True)
    if result.rejects_file:
        echo(f"Các dòng không dùng được và lý do: {result.rejects_file}", err=True)
        for issue in result.issues[:10]:
            where = issue.source or issue.file or ""
            column = f" [{issue.column}]" if issue.column else ""
            echo(f"  {where}{column}: {issue.message}", err=True)
        if len(result.issues) > 10:
            echo(f"  … và {len(result.issues) - 10} dòng khác (xem rejects.csv)", err=True)


def _present_delivery(sheet: DeliverySheet | None) -> None:
    """Say where the delivery sheet is; letters whose address names no hamlet (stderr)."""
    if sheet is None:
        return
    groups = ", ".join(f"{name}: {count}" for name, count in sheet.groups.items())
    typer.echo(f"Danh sách giao thư: {sheet.docx} ({groups})")
    if sheet.unplaced:
        typer.echo(
            f"{len(sheet.unplaced)} thư có địa chỉ không khớp ấp / khu phố nào trong hồ sơ xã, "
            "xếp vào nhóm Khác (address names no hamlet of the profile):",
            err=True,
        )
        for row in sheet.unplaced[:10]:
            typer.echo(f"  {row.key}: {row.address or '(không có địa chỉ)'}", err=True)
        typer.echo(
            "Gợi ý (hint): thêm tên hoặc cách viết khác vào [[hamlets]] của hồ sơ xã.", err=True
        )


def _present_ledger(result: BatchResult) -> None:
    """Say what the ledger settled: crashed runs cleaned up, corrected records (stderr)."""
    echo = typer.echo
    if result.batch_dir is None:
        echo("Không có thư mới: không tạo lô thư (no new letters, no batch folder).")
    for path in result.removed_incomplete:
        echo(f"Đã xoá thư mục dở dang của lần chạy bị ngắt: {path}", err=True)
    for path in result.recovered:
        echo(f"Đã ghi vào sổ theo dõi lô thư của lần chạy bị ngắt: {path}", err=True)
    for letter in result.do_not_deliver:
        echo(
            f"KHÔNG GIAO thư khai sinh {letter['key']} ({letter['batch']}/{letter['print_file']} "
            f"#{letter['position']}): trẻ đã được đăng ký khai tử ({letter['death_key']}) "
            "(do not deliver this birth letter: the child's death is registered)",
            err=True,
        )
    if not result.changed:
        return
    reprinted = sum(1 for c in result.changed if c.reprinted)
    echo(
        f"{len(result.changed)} hồ sơ đã in thư nhưng nay có nội dung khác "
        f"(changed since printed); in lại {reprinted}: {result.changed_file}",
        err=True,
    )
    for changed in result.changed[:10]:
        previous = changed.previous
        action = "in lại" if changed.reprinted else "CHƯA in lại"
        echo(
            f"  {changed.key} ({changed.registration.source}): đã in {previous.printed_at[:10]} "
            f"{previous.batch}/{previous.print_file} #{previous.position} — {action}",
            err=True,
        )
    if len(result.changed) > 10:
        echo(f"  … và {len(result.changed) - 10} hồ sơ khác (xem changed.csv)", err=True)
    if reprinted < len(result.changed):
        echo("Gợi ý (hint): kiểm tra rồi chạy lại với --reprint-changed để in lại.", err=True)
