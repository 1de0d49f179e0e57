"""gunicorn's settings for Route Finder, loaded with `--config python:eligibility.gunicorn_conf`
by `make serve`, `make bench` and the tests that start gunicorn. Only gunicorn setting names
are module-level names here: gunicorn reads every one of them."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn import glogging as _glogging  # type: ignore[import-untyped]
from gunicorn.http import wsgi as _wsgi  # type: ignore[import-untyped]

from eligibility.logs import RedactTokens as _RedactTokens

# Django alone decides whether a request came over HTTPS (SECURE_PROXY_SSL_HEADER) and who sent
# it (TRUSTED_PROXY_COUNT). gunicorn trusts no forwarding header from any peer: by default it
# took X-Forwarded-Proto, -Ssl and -Protocol, and a SCRIPT_NAME header, from 127.0.0.1, so a
# client there skipped the HTTPS redirect or moved every URL Django builds.
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""
forwarded_allow_ips = ""
proxy_protocol = "off"
header_map = "drop"
# gunicorn 27 listens on a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl)
# that every server of that user shares; nothing here uses gunicornc.
control_socket_disable = True


class _TokenRedactingLogger(_glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger, writing access and error lines without applicants' tokens: the
    request line, the Referer and the query all carry them (/a/<token>/…)."""

    _redact = _RedactTokens()

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        log: logging.Logger
        for log in (self.error_log, self.access_log):
            log.addFilter(self._redact)  # once only: addFilter skips a filter already there


logger_class = _TokenRedactingLogger


# No Server header: it named gunicorn, which only helps an attacker pick exploits. The
# application cannot drop it (gunicorn removes a Server header the application sets and adds
# its own), so the line is left out where gunicorn writes it.
_default_headers = _wsgi.Response.default_headers


def _headers_without_server(response: Any) -> list[str]:
    lines: list[str] = _default_headers(response)
    return [line for line in lines if not line.startswith("Server:")]


_wsgi.Response.default_headers = _headers_without_server
