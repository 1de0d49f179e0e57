"""How fast one client may create assessments and ask for PDFs. Counters live in the cache
(Redis in production), so every app process on every machine counts the same client against
one limit."""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT proxies of ours, the
    address the outermost of them saw (entries further left are the client's to forge). An
    entry that is not an IP address (our proxy passed on what the client wrote) is not used:
    the address of the proxy that passed it on is."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            address = _ip_address(hops[-proxies])
            if address:
                return address
            logger.warning("X-Forwarded-For holds no address where our proxy puts one.")
    return _ip_address(str(request.META.get("REMOTE_ADDR", "")))


def _ip_address(text: str) -> str:
    """`text` as an IP address ("" if it is none), without brackets or a port."""
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "198.51.100.4:443"
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""


@dataclass(frozen=True)
class Limit:
    """At most `setting` (a number of requests) per `setting`_WINDOW_SECONDS, per client."""

    key: str
    setting: str
    title: str
    reason: str
    meanwhile: str

    @property
    def most(self) -> int:
        return int(getattr(settings, self.setting))

    @property
    def window(self) -> int:
        return int(getattr(settings, f"{self.setting.removesuffix('_LIMIT')}_WINDOW_SECONDS"))


NEW_ASSESSMENTS = Limit(
    "new-assessment",
    "NEW_ASSESSMENTS_LIMIT",
    "Too many new assessments",
    "So many assessments were started from your connection in a short time that we have "
    "paused new ones.",
    "Assessments you have already started still work: use the link you saved.",
)
ANSWERS = Limit(
    "answer",
    "ANSWERS_LIMIT",
    "Too many answers",
    "So many answers were sent from your connection in a short time that we have paused "
    "saving new ones.",
    "The answers you gave before are saved.",
)
PDF_REQUESTS = Limit(
    "pdf",
    "PDF_REQUESTS_LIMIT",
    "Too many PDFs asked for",
    "So many PDFs were asked for from your connection in a short time that we have paused "
    "new ones.",
    "Your results page still works, and a PDF already made can still be downloaded.",
)


def seconds_until_allowed(request: HttpRequest, limit: Limit = NEW_ASSESSMENTS) -> int:
    """Count this request against the client's limit; 0 when it is within the limit, else how
    many seconds until the current window ends. Fixed windows: one cache round trip to add
    the counter and one to increment it, atomic in Redis. While the cache is unreachable
    (the cache ignores a Redis outage, see settings.CACHES) nobody is limited, with a
    warning in the log: refusing everyone would take the site down with Redis."""
    window = limit.window
    now = time.time()
    started = int(now // window) * window
    key = f"throttle:{limit.key}:{client_ip(request)}:{started}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this request opens a new window
        cache.add(key, 1, timeout=window + 1)
        count = 1
    if count is None:
        logger.warning("The cache is unreachable: the %s rate limit is not applied.", limit.key)
        return 0
    if count <= limit.most:
        return 0
    return max(1, int(started + window - now + 0.999))


def too_many_requests(
    request: HttpRequest, retry_after: int, limit: Limit = NEW_ASSESSMENTS
) -> HttpResponse:
    """The 429 page; to htmx, only its message, to show where the request's answer goes."""
    minutes = -(-retry_after // 60)
    response = render(
        request,
        "429.html#message" if getattr(request, "htmx", False) else "429.html",
        {"retry_after": retry_after, "minutes": minutes, "limit": limit},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def limited[View: Callable[..., HttpResponse]](limit: Limit) -> Callable[[View], View]:
    """Answer 429 with a readable page when the client has gone past `limit` in the current
    window. Only requests that change something (POST) count."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            retry_after = seconds_until_allowed(request, limit)
            if retry_after:
                return too_many_requests(request, retry_after, limit)
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


# Only the view that creates assessments wears this.
limit_new_assessments = limited(NEW_ASSESSMENTS)


def admin_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: object = None
) -> HttpResponse:
    """django-axes calls this for a blocked admin login: say why and for how long."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    response = render(
        request,
        "admin/locked_out.html",
        {"minutes": minutes, "title": "Too many failed attempts", "site_header": "Route Finder"},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response
