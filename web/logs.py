"""Access logs without secrets: a key given as ``?key=`` (feed readers, dashboard links) is masked before uvicorn
writes the request line, so a log file never grants access to whoever can read it."""

from __future__ import annotations

import logging
import re

SECRET_PARAMS = re.compile(r"([?&](?:key|api_key|token)=)[^&#\s\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    """TEXT with the value of every key-like query parameter replaced by ``***``."""
    return SECRET_PARAMS.sub(r"\1***", text)


class RedactKeys(logging.Filter):
    """Masks key-like query parameters in a log record's message and arguments (uvicorn's access log passes
    the path as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True
