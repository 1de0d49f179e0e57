"""Applicants' tokens kept out of logs. A token is the only key to an applicant's answers
(URLs /a/<token>/…), so whoever reads a log must not be able to open them. Used by Django's
logging (settings.LOGGING) and by gunicorn's access and error logs (gunicorn_conf)."""

from __future__ import annotations

import logging
import re

REDACTED = "***"

# The segment after /a/, as requested or percent-encoded in a query (%2Fa%2F…): gunicorn
# decodes %2F and %61 before Django routes, so each form opens the assessment.
_TOKEN_IN_URL = re.compile(
    r"(?P<prefix>(?:/|%2F)(?:a|%61)(?:/|%2F))(?P<token>(?:(?!%2F)[^/?#&\s\"'])+)",
    re.IGNORECASE,
)


def redact_tokens(text: str) -> str:
    """The text with the token of every assessment URL in it replaced by ***."""
    if "/" not in text and "%" not in text:
        return text
    return _TOKEN_IN_URL.sub(rf"\g<prefix>{REDACTED}", text)


class RedactTokens(logging.Filter):
    """Replaces a record's message (its arguments merged in) and its traceback with
    redacted text, so that every handler after it writes no token."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep what it gave, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact_tokens(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_tokens(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_tokens(record.stack_info)
        return True
