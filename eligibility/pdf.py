"""Results as a PDF: a brief for the applicant's adviser, rendered by WeasyPrint from the same
`Results` the results page shows (templates/results_pdf.html with static/css/pdf.css), as a
tagged PDF (PDF/UA-1) that screen readers can follow, through a URL fetcher that reads nothing
but the app's static files.

The brief opens with a summary page (who this is, the best options, their next steps, the
questions still open), then each route that fits or may fit, the routes a job offer would
open, one table of the routes that do not fit, the full answers, and every source with its
full address: a printed copy can be checked.

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
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Final
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

from eligibility import questionnaire
from eligibility.engine import Outcome, RuleBook, Source
from eligibility.pdf_jobs import PageSize, filename, page_size_for
from eligibility.results import (
    BestOption,
    OfferRoute,
    RequirementRow,
    Results,
    RouteSection,
    SettlingQuestion,
    build_results,
)

logger = logging.getLogger(__name__)

# Relative URLs in the page (`/static/css/app.css`) resolve against this base, which the
# fetcher maps to the static files; nothing else under it is readable.
BASE_URL = "file:///"


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


# PDF/UA-1: a tagged PDF (structure tree, /MarkInfo Marked) whose title and language come from
# the page's <title> and <html lang>, so that a screen reader reads it in order.
PDF_VARIANT = "pdf/ua-1"


class TooLong(Exception):
    """The PDF would be longer than it may be: `pages` pages, or None when the page was
    refused before it was laid out."""

    def __init__(self, pages: int | None) -> None:
        super().__init__(f"{pages or 'too many'} pages")
        self.pages = pages


def lay_out(
    html: str,
    page_size: PageSize = "A4",
    *,
    most_pages: int | None = None,
    most_html_kb: int | None = None,
) -> Any:
    """A page of HTML laid out in pages (a WeasyPrint Document) with its own print
    stylesheets, on paper of the given size. Only static files are fetched (see
    StaticFilesFetcher). Raises TooLong past `most_pages`, or, before laying out (the costly
    part), past `most_html_kb` of HTML."""
    if most_html_kb is not None and len(html) > most_html_kb * 1000:
        raise TooLong(None)
    document = HTML(
        string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher(), media_type="print"
    ).render(stylesheets=[_page_size_css(page_size)], pdf_variant=PDF_VARIANT)
    if most_pages is not None and len(document.pages) > most_pages:
        raise TooLong(len(document.pages))
    return document


def write(document: Any) -> bytes:
    """The tagged PDF of a laid-out document."""
    pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
    return pdf


def render_pdf(html: str, page_size: PageSize = "A4") -> bytes:
    """The tagged PDF of a page of HTML (see lay_out)."""
    return write(lay_out(html, page_size))


# ---------------------------------------------------------------------------------------------
# The results PDF

RESULTS_TEMPLATE = "results_pdf.html"


MOST_OPEN_QUESTIONS: Final = 5  # on the first page; each route lists its own

Citations = Mapping[Source, int]


@dataclass(frozen=True, slots=True)
class Cited:
    """Something the brief prints with the number of its source in the list of sources."""

    item: Any
    number: int | None


def _cited(item: Any, source: Source | None, numbers: Citations) -> Cited:
    return Cited(item, numbers.get(source) if source is not None else None)


@dataclass(frozen=True, slots=True)
class RouteBrief:
    """One route that fits or may fit, cut for paper: the requirements that still count in a
    table (points items summed up by group; pathways already ruled out only named), what
    would settle it, and a numbered citation for each thing it prints."""

    section: RouteSection
    numbers: Citations
    full: bool = True  # False: the verdict and what settles it, without the details
    with_facts: bool = True  # the route's key facts (fees, family...): for the first few only

    @property
    def ruled_out(self) -> frozenset[str]:
        """Named pathways that do not fit: their rules no longer matter to the verdict."""
        return frozenset(
            p.name for p in self.section.result.pathways if p.name and p.outcome is Outcome.NOT_MET
        )

    @property
    def requirement_rows(self) -> tuple[RequirementRow, ...]:
        if not self.full:
            return ()
        ruled_out = self.ruled_out
        return tuple(
            r
            for r in self.section.requirements
            if r.result.check.applies
            and r.result.rule.points is None
            and r.result.rule.pathway not in ruled_out
        )

    @property
    def rows(self) -> tuple[Cited, ...]:
        return tuple(
            _cited(r, r.result.value.source if r.result.value else None, self.numbers)
            for r in self.requirement_rows
        )

    @property
    def to_answer(self) -> tuple[str, ...]:
        """The first questions whose answers could settle the route (as the page lists them)."""
        return tuple(dict.fromkeys(o.question_label for o in self.section.settling))

    @property
    def still_open(self) -> tuple[Cited, ...]:
        """What no answer of the applicant's settles: unclear rules, unpublished figures,
        chance."""
        reason = self.section.reason
        return tuple(
            _cited(o, o.source, self.numbers)
            for o in self.section.deciding
            if not o.answerable and o.text not in reason  # the reason already says it
        )

    @property
    def to_know(self) -> tuple[Cited, ...]:
        if not self.with_facts:
            return ()
        return tuple(_cited(o, o.source, self.numbers) for o in self.section.to_know)

    @property
    def key_facts(self) -> tuple[Cited, ...]:
        if not self.with_facts:
            return ()
        return tuple(_cited(f, f.source, self.numbers) for f in self.section.key_facts)

    @property
    def next_steps(self) -> tuple[Cited, ...]:
        return tuple(_cited(s, s.source, self.numbers) for s in self.section.next_steps)

    @property
    def sources(self) -> tuple[Source, ...]:
        """The sources of what this section prints, in the order it prints them."""
        section = self.section
        found = [r.result.value.source for r in self.requirement_rows if r.result.value is not None]
        found += [c.item.source for c in self.still_open if c.item.source]
        if self.full:
            found += [c.item.source for c in self.to_know if c.item.source]
            found += [f.source for f in section.key_facts if self.with_facts]
            found += [s.source for s in section.next_steps]
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class OfferBrief:
    """A route a job offer would open: what the offer must look like, each with its source."""

    offer: OfferRoute
    numbers: Citations

    @property
    def section(self) -> RouteSection:
        return self.offer.section

    @property
    def cells(self) -> tuple[tuple[str, Cited], ...]:
        offer = self.offer
        return tuple(
            (label, _cited(cell, cell.source, self.numbers))
            # The employer cell says an employer is needed, which the group already says.
            for label, cell in (
                ("Salary floor", offer.salary_floor),
                ("Costs", offer.costs),
                ("Chance: lottery, cap or quota", offer.chance),
            )
        )

    @property
    def sources(self) -> tuple[Source, ...]:
        cells = (self.offer.salary_floor, self.offer.costs, self.offer.chance)
        return tuple(dict.fromkeys(c.source for c in cells if c.source is not None))


@dataclass(frozen=True)
class AdviserBrief:
    """What the PDF shows beyond the results page: the same `Results`, cut for an adviser
    reading on paper, with every source numbered once. `resume_url` is the link back to the
    live result, given only when the applicant chose to include it."""

    results: Results
    resume_url: str = ""

    @property
    def best(self) -> tuple[tuple[BestOption, RouteBrief], ...]:
        numbers = self.numbers
        return tuple((b, RouteBrief(b.section, numbers)) for b in self.results.best)

    @property
    def routes(self) -> tuple[RouteBrief, ...]:
        """The routes that fit or may fit, best first: each gets a section of its own."""
        return self._routes(self.numbers)

    @property
    def offers(self) -> tuple[OfferBrief, ...]:
        return self._offers(self.numbers)

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every source the brief cites, once each, numbered in the order first cited."""
        return tuple(self.numbers)

    @cached_property
    def numbers(self) -> dict[Source, int]:
        found: list[Source] = [s for b in self.results.best for s in _step_sources(b.section)]
        found += [s for r in self._routes({}) for s in r.sources]
        found += [s for o in self._offers({}) for s in o.sources]
        return {source: n for n, source in enumerate(dict.fromkeys(found), start=1)}

    @property
    def counts(self) -> dict[str, int]:
        """How many routes each group holds, and how many routes there are in all."""
        counts = {g.key: len(g.sections) for g in self.results.groups}
        counts["all"] = len(self.results.sections)
        return counts

    @property
    def best_slugs(self) -> frozenset[str]:
        return frozenset(b.section.slug for b in self.results.best)

    @property
    def open_questions(self) -> tuple[SettlingQuestion, ...]:
        """The questions that could settle the most routes first, the first few."""
        questions = sorted(self.results.settling.questions, key=lambda q: -len(q.routes))
        return tuple(questions[:MOST_OPEN_QUESTIONS])

    @property
    def more_open_questions(self) -> int:
        return max(0, len(self.results.settling.questions) - MOST_OPEN_QUESTIONS)

    @property
    def other_answers(self) -> tuple[tuple[str, str], ...]:
        """The answers the first page does not already show."""
        shown = set(self.results.key_answers)
        return tuple(a for a in self.results.answer_lines if a not in shown)

    @property
    def not_chosen(self) -> tuple[RouteSection, ...]:
        return self._group("not_chosen")

    def _routes(self, numbers: Citations) -> tuple[RouteBrief, ...]:
        # In full: the best options and every route that fits. The other routes that may fit
        # get their verdict, what would settle it and what stays open, so that the brief stays
        # within six pages for a typical profile (an adviser reads it, not a catalogue).
        # Key facts for the routes that fit and the first best option only: the rest are on
        # the results page, where any routes can be compared side by side.
        best = self.best_slugs
        first = self.results.best[0].section.slug if self.results.best else ""
        return tuple(
            RouteBrief(
                s,
                numbers,
                full=s.slug in best or g.key == "fits",
                with_facts=s.slug == first or g.key == "fits",
            )
            for g in self.results.groups
            if g.key in ("fits", "may_fit")
            for s in g.sections
        )

    def _offers(self, numbers: Citations) -> tuple[OfferBrief, ...]:
        return tuple(OfferBrief(o, numbers) for o in self.results.with_offer)

    def _group(self, key: str) -> tuple[RouteSection, ...]:
        return next((g.sections for g in self.results.groups if g.key == key), ())


def _step_sources(section: RouteSection) -> list[Source]:
    return [s.source for s in section.next_steps]


def results_for(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> Results:
    """The results the PDF shows, built as the results page builds them, for the countries
    the applicant chose."""
    return build_results(
        book, answers, on, chosen_countries=questionnaire.chosen_countries(book, answers)
    )


def results_html(results: Results, *, resume_url: str = "") -> str:
    """The adviser's brief of these results as HTML for WeasyPrint. `resume_url`, when
    given, is printed as the link back to the live result; without it the PDF holds no link
    to the applicant's answers."""
    return render_to_string(RESULTS_TEMPLATE, {"brief": AdviserBrief(results, resume_url)})


def render_results(results: Results, page_size: PageSize = "A4", *, resume_url: str = "") -> bytes:
    """The adviser's PDF of these results (see results_html)."""
    return render_pdf(results_html(results, resume_url=resume_url), page_size)


__all__ = ["PageSize", "filename", "page_size_for"]
