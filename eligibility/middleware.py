"""Middleware of our own: a Permissions-Policy on every response, HEAD without a body, form
posts read only as UTF-8, and the audit trail's client address taken from where the rate
limit takes it."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Any

from auditlog.middleware import AuditlogMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from eligibility.throttle import client_ip

# Browser features the site never uses, turned off for its pages and anything they embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)

Middleware = Callable[[HttpRequest], HttpResponse]


def permissions_policy(get_response: Middleware) -> Middleware:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    return middleware


def head_without_body(get_response: Middleware) -> Middleware:
    """HEAD is answered as GET is, without the body (Django's views render it; gunicorn would
    drop it with a warning in the log for every HEAD)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if request.method == "HEAD" and not response.streaming:
            length = len(response.content)
            response.content = b""
            response["Content-Length"] = str(length)
        return response

    return middleware


def utf8_forms_only(get_response: Middleware) -> Middleware:
    """Every page of ours is UTF-8, and browsers post its forms in UTF-8. A body labelled with
    another charset (`charset=utf-16`) is refused with a 400 that says so, before anything
    reads it: decoding it as labelled failed with a 500, or read something else than sent."""

    def middleware(request: HttpRequest) -> HttpResponse:
        charset = request.content_params.get("charset") if request.content_params else None
        if charset and request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                name = codecs.lookup(charset).name
            except LookupError:
                name = ""
            if name != "utf-8":
                return render(request, "400.html", {"reason": "encoding"}, status=400)
        return get_response(request)

    return middleware


class TrustedAddressAuditlogMiddleware(AuditlogMiddleware):  # type: ignore[misc]
    """django-auditlog's middleware records the leftmost X-Forwarded-For, which any client
    can write. Record the address the app trusts (eligibility.throttle.client_ip), and a port
    only when the client connected directly."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_ip(request) or None

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        if settings.TRUSTED_PROXY_COUNT:
            return None
        port: Any = request.META.get("REMOTE_PORT")
        return int(port) if isinstance(port, str) and port.isdigit() else None
