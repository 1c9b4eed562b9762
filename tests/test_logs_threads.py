"""The day log is safe when another thread logs while a run closes it (the office app)."""

from __future__ import annotations

import gc
import logging
import warnings
from datetime import datetime, timedelta, timezone

from cchc_letters.logs import LOGGER_NAME, day_log

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone(timedelta(hours=7)))


def test_a_record_arriving_after_the_log_closed_does_not_reopen_the_file(tmp_path):
    logger = logging.getLogger(LOGGER_NAME)
    with day_log(tmp_path, NOW) as log:
        [handler] = [h for h in logger.handlers if getattr(h, "baseFilename", None)]
        log.info("batch written")
    # what a second thread does when it fetched the handler list just before the close
    record = logger.makeRecord(LOGGER_NAME, logging.INFO, __file__, 1, "late", (), None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        handler.handle(record)
        assert handler.stream is None  # not reopened
        gc.collect()
    text = (tmp_path / "logs" / "cchc-letters-2026-11-27.log").read_text(encoding="utf-8")
    assert "batch written" in text and "late" not in text
