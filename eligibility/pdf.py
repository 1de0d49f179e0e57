"""Results as a PDF: the results page's own template, rendered by WeasyPrint with
static/css/print.css, through a URL fetcher that reads nothing but the app's static files.

Why the fetcher matters: WeasyPrint's default fetcher follows `file://` and `http(s)://`
URLs, so a stylesheet, image or attachment link in the page could read local files or reach
the network (SSRF). Route names, notes and source links are entered by advisers; whatever
they contain, rendering a PDF fetches no more than our own CSS and images.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import ssl
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils._os import safe_join
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from eligibility import report
from eligibility.engine import RuleBook

logger = logging.getLogger(__name__)

PageSize = Literal["A4", "letter"]

# Countries whose standard paper is US Letter; everyone else uses A4.
LETTER_REGIONS = frozenset(
    {"US", "CA", "MX", "PH", "CL", "CO", "CR", "DO", "GT", "NI", "PA", "PR", "SV", "VE"}
)

# Relative URLs in the page (`/static/css/app.css`) resolve against this base, which the
# fetcher maps to the static files; nothing else under it is readable.
BASE_URL = "file:///"


def page_size_for(accept_language: str) -> PageSize:
    """Letter when the browser's most preferred language names a Letter country (en-US,
    en-CA, es-MX, fil-PH...), A4 otherwise, including when no region is given."""
    best, best_q = "", -1.0
    for part in accept_language.split(","):
        tag, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > best_q:
            best, best_q = tag, quality
    regions = [s for s in best.replace("_", "-").split("-")[1:] if len(s) == 2 and s.isalpha()]
    return "letter" if regions and regions[0].upper() in LETTER_REGIONS else "A4"


class FetchRefused(ValueError):
    """A URL outside the app's static files; WeasyPrint logs it and renders without it."""


def static_roots() -> tuple[Path, ...]:
    """The directories whose files the PDF may use: STATICFILES_DIRS, each installed app's
    static/ directory, and STATIC_ROOT."""
    roots: list[Path] = []
    for entry in settings.STATICFILES_DIRS:
        roots.append(Path(entry[1] if isinstance(entry, tuple) else entry))
    roots.extend(Path(app.path) / "static" for app in apps.get_app_configs())
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return tuple(root.resolve() for root in roots if root.is_dir())


def static_file(url: str) -> Path | None:
    """The static file a `file:` URL names, or None when it names anything else.

    `file:///static/css/print.css` (a page's `{% static %}` URL resolved against BASE_URL)
    is looked up with the static files finders, then in STATIC_ROOT; a full path is
    accepted only inside a static directory. Either way the resolved path (symlinks
    followed, `..` removed) must lie inside a static directory and be a regular file."""
    path = url2pathname(unquote(urlsplit(url).path))
    # STATIC_URL itself (static("") fails under the manifest storage used in production).
    prefix = settings.STATIC_URL or ""
    candidate: str | None = path
    if prefix.startswith("/") and path.startswith(prefix):
        relative = path.removeprefix(prefix)
        try:
            found = finders.find(relative)
            if not isinstance(found, str) and settings.STATIC_ROOT:
                # In production {% static %} names collectstatic's hashed copies.
                found = safe_join(str(settings.STATIC_ROOT), relative)
        except SuspiciousFileOperation:
            return None
        candidate = found if isinstance(found, str) else None
    if not candidate:
        return None
    resolved = Path(candidate).resolve()
    if not resolved.is_file():
        return None
    if not any(resolved.is_relative_to(root) for root in static_roots()):
        return None
    return resolved


_NO_TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class StaticFilesFetcher(URLFetcher):  # type: ignore[misc]
    """Serves the app's static files and `data:` URLs; refuses every other URL (other
    files, http, https, ftp...) without opening it."""

    def __init__(self) -> None:
        # data: URLs are the only ones handed to WeasyPrint's own fetching. The unused SSL
        # context saves loading the system's certificates on every PDF.
        super().__init__(allowed_protocols=("data",), allow_redirects=False, ssl_context=_NO_TLS)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file" and (path := static_file(url)) is not None:
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
        logger.warning("PDF: refused to fetch %.200s (only static files are allowed)", url)
        raise FetchRefused(f"Only the app's static files can be fetched, not {url:.200}")


@cache
def _page_size_css(size: PageSize) -> CSS:
    # A user stylesheet: it sets only the size, which print.css leaves to the reader.
    return CSS(string=f"@page {{ size: {size}; }}")


def render_pdf(html: str, page_size: PageSize = "A4") -> bytes:
    """The PDF of a page of HTML with its own print stylesheets (the results template links
    static/css/print.css for print media), on paper of the given size. Only static files are
    fetched (see StaticFilesFetcher)."""
    document = HTML(
        string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher(), media_type="print"
    )
    pdf: bytes = document.write_pdf(stylesheets=[_page_size_css(page_size)])
    return pdf


# ---------------------------------------------------------------------------------------------
# The results PDF

RESULTS_TEMPLATE = "results.html"


def render_results(
    book: RuleBook, answers: Mapping[str, Any], on: dt.date, page_size: PageSize = "A4"
) -> bytes:
    """The results PDF for these answers, evaluated on `on` against `book`."""
    context = report.results_context(book, answers, on, for_print=True)
    html = render_to_string(RESULTS_TEMPLATE, context)
    return render_pdf(html, page_size)


def filename(on: dt.date) -> str:
    return f"route-finder-results-{on.isoformat()}.pdf"
