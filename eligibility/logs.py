"""What goes into the logs. Applicants' tokens never do: a token is the only key to an
applicant's answers (URLs /a/<token>/…), so whoever reads a log must not be able to open them
(Django's logging, settings.LOGGING, and gunicorn's access and error logs, gunicorn_conf). And
a Redis outage is said in one line a minute, not a traceback per cache call."""

from __future__ import annotations

import logging
import re
import time

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


class CacheOutageSummary(logging.Filter):
    """For the cache's log (django-redis logs each call it answers as a miss while Redis is
    unreachable, with a traceback): one line, with the reason, at most once per `seconds` in
    each process."""

    def __init__(self, seconds: float = 60) -> None:
        super().__init__()
        self.seconds = seconds
        self.last_said = float("-inf")

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now - self.last_said < self.seconds:
            return False
        self.last_said = now
        reason = record.exc_info[1] if record.exc_info else None
        record.msg = (
            "Redis is unreachable (%s); the cache answers as a miss: sessions and rules come "
            "from the database and rate limits are not applied. Said at most once a minute."
        )
        record.args = (str(reason) or type(reason).__name__ if reason else "no reason given",)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        return True
