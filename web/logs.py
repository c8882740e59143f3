"""Logs without secrets: a key given as ``?key=`` (feed readers, dashboard links, an API key in a URL) is masked
before a log line is written, and so is every secret value a process knows it holds (a crawler's API key, app
password or session token), so a log file never grants access to whoever can read it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

SECRET_PARAMS = re.compile(r"([?&](?:key|api_key|token|access_token)=)[^&#\s\"]+", re.IGNORECASE)
MASK = "***"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """TEXT with the value of every key-like query parameter, and every one of SECRETS, replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return SECRET_PARAMS.sub(rf"\1{MASK}", text)


class RedactKeys(logging.Filter):
    """Masks key-like query parameters and the given SECRETS in a log record's message and arguments (uvicorn's
    access log passes the path as an argument; Scrapy passes requests and failures)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:  # a secret may sit in any argument: format the line first, then mask it whole
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
                record.exc_info, record.exc_text = None, None
            record.msg, record.args = redact(message, self.secrets), ()
            return True
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True
