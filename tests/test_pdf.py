"""The results PDF: same template as the results page, readable text in any script, a fetcher
that reads only static files, and a download only the token holder can get."""

from __future__ import annotations

import datetime as dt
import html
import http.server
import io
import json
import re
import threading
import urllib.request

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from eligibility import pdf, questionnaire, wording
from eligibility.engine import evaluate_routes
from eligibility.models import Answer, Assessment, Question
from tests.factories import (
    KeyFactFactory,
    OpenQuestionFactory,
    RequirementFactory,
    RouteFactory,
    blue_card,
)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def without_csrf(page: bytes) -> bytes:
    """A page without its CSRF token and CSP nonce, which are new in every response."""
    return re.sub(rb'("X-CSRFToken": |nonce=)"[^"]+"', b"", page)


def flat(text: str) -> str:
    """Text with line wrapping undone, to find sentences that run over lines."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Paper size


@pytest.mark.parametrize(
    ("accept_language", "size"),
    [
        ("en-US,en;q=0.9", "letter"),
        ("en-CA", "letter"),
        ("es-MX,es;q=0.8", "letter"),
        ("fil-PH", "letter"),
        ("en-GB,en;q=0.9", "A4"),
        ("de-DE", "A4"),
        ("zh-Hans-CN,zh;q=0.9", "A4"),
        ("en", "A4"),
        ("", "A4"),
        ("*", "A4"),
        ("de-DE;q=0.5,en-US;q=0.9", "letter"),
        ("en-US;q=0.2,ko-KR", "A4"),
        ("en_us", "letter"),
        ("garbage;q=x,,;", "A4"),
    ],
)
def test_paper_is_letter_only_when_the_preferred_language_names_a_letter_country(
    accept_language, size
):
    assert pdf.page_size_for(accept_language) == size


def page_width_points(content: bytes) -> float:
    return float(PdfReader(io.BytesIO(content)).pages[0].mediabox.width)


def test_letter_and_a4_pages_have_their_own_widths():
    html = "<p>Hello</p>"
    assert round(page_width_points(pdf.render_pdf(html, "A4"))) == 595  # 210 mm
    assert round(page_width_points(pdf.render_pdf(html, "letter"))) == 612  # 8.5 in


# ---------------------------------------------------------------------------------------------
# The locked-down fetcher

LEAK_CSS = 'body::after { content: "LEAKED-%s"; }'


class RecordingServer:
    """A local HTTP server that serves a stylesheet for every path and records requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        recorded = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorded.append(self.path)
                body = (LEAK_CSS % "HTTP").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_server():
    server = RecordingServer()
    # The server works: a plain request is recorded, so "nothing recorded" below means
    # nothing was asked for.
    with urllib.request.urlopen(f"{server.url}/check") as response:
        assert b"LEAKED-HTTP" in response.read()
    assert server.requests == ["/check"]
    server.requests.clear()
    yield server
    server.close()


def page_referencing(*urls: str) -> str:
    links = "".join(f'<link rel="stylesheet" href="{u}">' for u in urls)
    images = "".join(f'<img src="{u}" alt="">' for u in urls)
    attachments = "".join(f'<a rel="attachment" href="{u}">file</a>' for u in urls)
    imports = "".join(f'@import url("{u}");' for u in urls)
    fonts = "".join(
        f'@font-face {{ font-family: "X{i}"; src: url("{u}"); }}' for i, u in enumerate(urls)
    )
    return (
        f"<!doctype html><html><head>{links}<style>{imports}{fonts} p {{ font-family: X0; }}"
        f"</style></head><body><p>Still renders</p>{images}{attachments}"
        f'<div style="background: url({urls[0]})">bg</div></body></html>'
    )


def test_links_to_local_files_outside_static_are_not_fetched(tmp_path):
    outside = tmp_path / "outside.css"
    outside.write_text(LEAK_CSS % "FILE")
    content = pdf.render_pdf(page_referencing("file:///etc/passwd", outside.as_uri()))
    text = pdf_text(content)
    assert "Still renders" in text
    assert "LEAKED" not in text
    assert PdfReader(io.BytesIO(content)).attachments == {}


def test_links_to_the_network_are_not_requested(http_server):
    content = pdf.render_pdf(
        page_referencing(f"{http_server.url}/style.css", "https://127.0.0.1:1/x.css")
    )
    assert http_server.requests == []
    text = pdf_text(content)
    assert "Still renders" in text
    assert "LEAKED" not in text


def test_static_files_are_fetched_through_the_static_url(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "probe.css").write_text('body::after { content: "FROM-STATIC"; }')
    with override_settings(STATICFILES_DIRS=[*settings.STATICFILES_DIRS, static]):
        text = pdf_text(pdf.render_pdf(page_referencing("/static/probe.css")))
    assert "FROM-STATIC" in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///static/../../../etc/passwd",
        "file:///static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "file:///static/link.css",  # a symlink in a static directory pointing outside it
        "file:///etc/passwd",
        "http://127.0.0.1/static/css/print.css",
        "ftp://example.org/x.css",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files(tmp_path, url):
    static = tmp_path / "static"
    static.mkdir()
    outside = tmp_path / "outside.css"
    outside.write_text(LEAK_CSS % "SYMLINK")
    (static / "link.css").symlink_to(outside)
    with (
        override_settings(STATICFILES_DIRS=[*settings.STATICFILES_DIRS, static]),
        pytest.raises(pdf.FetchRefused),
    ):
        pdf.StaticFilesFetcher().fetch(url)


def test_the_fetcher_serves_the_print_stylesheet_by_url_and_by_path():
    fetcher = pdf.StaticFilesFetcher()
    by_url = fetcher.fetch("file:///static/css/print.css")
    path = pdf.static_file("file:///static/css/print.css")
    assert path is not None
    by_path = fetcher.fetch(path.as_uri())
    assert by_url.content_type == by_path.content_type == "text/css"
    assert by_url.read() == by_path.read() == path.read_bytes()


def test_production_serves_collectstatics_hashed_copies(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "print.0123abcd.css").write_text("p { color: red }")
    manifest = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
    with override_settings(
        STATIC_ROOT=tmp_path, STORAGES={**settings.STORAGES, "staticfiles": manifest}
    ):
        response = pdf.StaticFilesFetcher().fetch("file:///static/css/print.0123abcd.css")
        assert response.read() == b"p { color: red }"
        with pytest.raises(pdf.FetchRefused):
            pdf.StaticFilesFetcher().fetch("file:///static/../../etc/passwd")


def test_data_urls_are_allowed():
    response = pdf.StaticFilesFetcher().fetch("data:text/css,p%7Bcolor:red%7D")
    assert response.read() == b"p{color:red}"


# ---------------------------------------------------------------------------------------------
# Contents


def question(key: str) -> Question:
    return Question.objects.get(key=key)


def k_visa():
    """May fit: the degree is met, the age rule is unclear, and advisers flag an open point."""
    route = RouteFactory(slug="cn-k-visa", name="K字签证 (K visa)", country="CN", currency="CNY")
    RequirementFactory(
        route=route, question=question("education_level"), operator="gte", value="bachelor"
    )
    RequirementFactory(
        route=route,
        question=question("age"),
        operator="lte",
        value=45,
        certainty="unclear",
        met_text="Young talent: no published age limit",
    )
    KeyFactFactory(route=route, topic="fees", text="未公布 (not published)", unclear=True)
    OpenQuestionFactory(route=route, topic="Work", text="Does it allow paid work?")
    return route


def top_tier():
    """Fits: a Korean job offer is all it asks here."""
    route = RouteFactory(slug="kr-top-tier", name="탑티어 비자", country="KR", currency="KRW")
    RequirementFactory(
        route=route, question=question("job_offer_country"), operator="eq", value="KR"
    )
    KeyFactFactory(route=route, topic="processing_time", text="약 4주 (about four weeks)")
    return route


def highly_skilled():
    """May fit on points: 35 earned, 75 still possible, 70 needed."""
    route = RouteFactory(
        slug="jp-hsp",
        name="高度専門職 (Highly Skilled Professional)",
        country="JP",
        currency="JPY",
        points_needed=70,
    )
    for key, operator, value, points, group in (
        ("education_level", "gte", "master", 20, "Education"),
        ("age", "lte", 29, 15, "Age"),
        ("offered_salary", "gte", 8000000, 40, "Salary"),
    ):
        RequirementFactory(
            route=route,
            question=question(key),
            operator=operator,
            value=value,
            points=points,
            points_group=group,
        )
    return route


ANSWERS = {
    "citizenship": ["IN"],
    "age": 29,
    "education_level": "master",
    "job_offer_country": "KR",
    "offered_salary": None,
}


@pytest.fixture
def routes(db):
    return [
        k_visa(),
        top_tier(),
        highly_skilled(),
        blue_card(last_verified_on=dt.date(2020, 1, 1)),  # does not fit, and overdue
    ]


@pytest.fixture
def assessment(routes):
    assessment = Assessment.objects.create()
    for key, value in ANSWERS.items():
        Answer.objects.create(assessment=assessment, question_key=key, value=value)
    return assessment


def download(client, assessment, **headers):
    return client.get(reverse("results_pdf", args=[assessment.token]), headers=headers)


@pytest.fixture
def text(client, assessment):
    response = download(client, assessment)
    assert response.status_code == 200
    return flat(pdf_text(response.content))


def test_the_pdf_names_every_route_with_its_verdict(text):
    for name, verdict in (
        ("K字签证 (K visa)", "May fit"),
        ("탑티어 비자", "Fits"),
        ("高度専門職 (Highly Skilled Professional)", "May fit"),
        ("EU Blue Card", "Does not fit"),
    ):
        assert f"{name} " in text
        assert verdict in text
    assert "1 fits 2 may fit 1 does not fit" in text


def test_the_pdf_says_when_and_against_which_rules_it_was_evaluated(text):
    book_version = text.split("against rules ")[1].split(".")[0]
    assert len(book_version) == 12
    today = timezone.localdate()
    assert f"Evaluated on {today:%-d %B %Y}" in text
    # The running header repeats the date on every page, and every page is numbered.
    pages = text.count(f"Evaluated {today:%-d %B %Y}")
    assert pages >= 2
    assert f"Page 1 of {pages}" in text
    assert f"Page {pages} of {pages}" in text


def test_the_pdf_lists_the_answers_including_i_dont_know(text):
    answers = text.split("Your answers")[1]
    assert "I don't know" in answers
    assert "Master" in answers
    assert "29" in answers


def test_routes_that_fit_or_may_fit_show_requirements_points_gaps_and_open_questions(text):
    # Requirements, with the applicant's value and the outcome.
    assert "Highest qualification must be Bachelor's degree or higher" in text
    assert "Young talent: no published age limit" in text
    assert "Unknown" in text and "Met" in text
    # Points breakdown and the gap hints that go with it.
    assert "35 points of 70 needed (up to 75 possible" in text
    assert "Education: 20 points" in text
    assert "35 points short (35 of 70 needed)." in text
    assert "would add 40 points." in text
    # Open questions: the adviser's and the unanswered or unknown answers that decide a route.
    assert "Work: Does it allow paid work?" in text
    assert "the answer decides this route" in text
    # Key facts, in any script.
    assert "未公布 (not published)" in text
    assert "약 4주 (about four weeks)" in text


def test_a_route_that_does_not_fit_shows_only_its_reason_things_to_know_and_sources(text):
    blue_card_part = text.rsplit("EU Blue Card Germany", 1)[1]
    assert blue_card_part.split()[:3] == ["Does", "not", "fit"]
    assert "Not met: Job offer" in blue_card_part
    assert "Other things to know" in blue_card_part
    assert "27 or 21 months?" in blue_card_part  # the adviser's thing to know stays
    assert "€75 visa, €100 permit" not in text  # its key facts are not the point here
    assert "Requirements" not in blue_card_part


def test_sources_carry_the_last_verified_date_and_an_overdue_flag(text):
    assert "Last verified on 28 November 2026 by Fact sheet." in text
    assert (
        "Last verified on 1 January 2020 by Fact sheet. Review overdue since 31 March 2020" in text
    )
    assert "Example Gazette, as of 28 November 2026" in text


def test_the_pdf_says_it_is_not_legal_advice(text):
    assert "This is decision support, not legal advice." in text
    assert "Decision support, not legal advice." in text  # in every page's footer


def test_the_pdf_and_the_results_page_give_the_same_verdicts_and_reasons(client, assessment):
    page = flat(client.get(reverse("results", args=[assessment.token])).content.decode())
    text = flat(pdf_text(download(client, assessment).content))
    book = load_book()
    answers = questionnaire.saved_answers(assessment, book)
    for result in evaluate_routes(book, answers, timezone.localdate()):
        reason = html.escape(wording.reason(result))
        assert f"{result.verdict.label}</span> {reason}" in page
        assert f"{result.verdict.label} {wording.reason(result)}" in text


def test_the_pdf_leaves_out_the_private_link_and_the_page_controls(client, assessment):
    content = download(client, assessment).content
    text = flat(pdf_text(content))
    assert assessment.token not in text
    assert assessment.token.encode() not in content  # nor in a link annotation
    for control in ("Download PDF", "Answer it", "Change your answers", "Delete my answers"):
        assert control not in text


# ---------------------------------------------------------------------------------------------
# Unicode


def fonts_by_text(content: bytes) -> dict[str, set[str]]:
    """Each embedded font's name and the text drawn with it."""
    drawn: dict[str, set[str]] = {}

    def visit(text, cm, tm, font, size):
        if font is not None and text.strip():
            drawn.setdefault(str(font["/BaseFont"]), set()).add(text.strip())

    for page in PdfReader(io.BytesIO(content)).pages:
        page.extract_text(visitor_text=visit)
    return drawn


@pytest.mark.parametrize(
    "script_text", ["K字签证", "탑티어 비자", "高度専門職", "未公布", "약 4주"]
)
def test_chinese_korean_and_japanese_text_is_drawn_with_a_cjk_font(client, assessment, script_text):
    drawn = fonts_by_text(download(client, assessment).content)
    cjk_fonts = {name for name in drawn if "CJK" in name}
    assert cjk_fonts, f"no CJK font embedded; fonts: {sorted(drawn)}"
    cjk_text = " ".join(text for name in cjk_fonts for text in drawn[name])
    assert all(char in cjk_text for char in script_text.replace(" ", "") if ord(char) > 0x2E80)


@pytest.mark.parametrize(
    ("script_text", "font"),
    [
        ("Tamil: வேலை விசா", "Tamil"),
        ("Hindi: एच-1बी वीज़ा", "Devanagari"),
        ("Bengali: কাজের ভিসা", "Bengali"),
        ("Russian: Рабочая виза", "Noto-Sans"),
    ],
)
def test_other_scripts_are_drawn_whole_in_a_font_made_for_them(script_text, font):
    page = f'<link rel="stylesheet" href="/static/css/print.css"><p>{script_text}</p>'
    drawn = fonts_by_text(pdf.render_pdf(page))
    letters = [c for c in script_text if ord(c) > 0x7F]  # vowel signs too
    # A cluster split over two fonts prints detached vowel signs: all from one face.
    assert [
        name for name, texts in drawn.items() if any(c in t for t in texts for c in letters)
    ] == [next(name for name in drawn if font in name)]


# ---------------------------------------------------------------------------------------------
# The download


def test_the_download_is_an_attachment_named_with_the_date(client, assessment):
    response = download(client, assessment)
    assert response["Content-Type"] == "application/pdf"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="route-finder-results-{today}.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert "Accept-Language" in response["Vary"]
    assert response.content.startswith(b"%PDF-")


def test_paper_follows_the_browsers_language(client, assessment):
    letter = download(client, assessment, accept_language="en-US,en;q=0.9")
    a4 = download(client, assessment, accept_language="en-GB,en;q=0.9")
    assert round(page_width_points(letter.content)) == 612
    assert round(page_width_points(a4.content)) == 595


def test_only_the_token_holder_gets_the_pdf(client, assessment):
    wrong = client.get(reverse("results_pdf", args=["x" * 43]))
    token = assessment.token
    assessment.delete()
    deleted = client.get(reverse("results_pdf", args=[token]))
    assert wrong.status_code == deleted.status_code == 404
    assert without_csrf(wrong.content) == without_csrf(deleted.content)


def test_the_results_page_links_to_the_pdf_with_a_plain_link(client, assessment):
    page = client.get(reverse("results", args=[assessment.token])).content.decode()
    url = reverse("results_pdf", args=[assessment.token])
    # A plain link (works without JavaScript) that htmx must not boost into a swap.
    assert f'<a href="{url}" download hx-boost="false">Download PDF</a>' in page
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("count", [1, 13])
def test_the_pdf_takes_the_same_queries_whatever_the_number_of_routes(
    db, client, django_assert_num_queries, count
):
    for _ in range(count):
        route = RouteFactory()
        RequirementFactory.create_batch(2, route=route)
        KeyFactFactory(route=route)
        OpenQuestionFactory(route=route)
    assessment = Assessment.objects.create()
    Answer.objects.create(assessment=assessment, question_key="age", value=30)
    # The assessment, the rules (6) and the answers.
    with django_assert_num_queries(8):
        assert download(client, assessment).status_code == 200


# ---------------------------------------------------------------------------------------------
# Adviser-entered text


def test_links_and_markup_that_advisers_enter_are_never_fetched(db, http_server):
    route = RouteFactory(
        name="Route with links",
        official_url=f"{http_server.url}/official",
        summary=f'<link rel="stylesheet" href="{http_server.url}/summary.css">'
        '<img src="file:///etc/passwd">',
    )
    RequirementFactory(route=route, source_url=f"{http_server.url}/source")
    OpenQuestionFactory(route=route, source_url="file:///etc/passwd")
    content = pdf.render_results(load_book(), {"age": 30}, dt.date(2026, 11, 28))
    assert http_server.requests == []
    text = flat(pdf_text(content))
    assert "Route with links" in text
    assert '<link rel="stylesheet"' in text  # shown as text, not obeyed
    assert PdfReader(io.BytesIO(content)).attachments == {}


def load_book():
    from eligibility.rules import load_rulebook

    return load_rulebook()


# ---------------------------------------------------------------------------------------------
# The command line


@pytest.fixture
def answers_file(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({**ANSWERS, "offered_salary": 52000}))
    return path


def test_assess_writes_the_same_pdf_to_a_file(routes, answers_file, tmp_path):
    output = tmp_path / "results.pdf"
    out = io.StringIO()
    call_command(
        "assess",
        str(answers_file),
        "--on",
        "2026-06-01",
        "--format",
        "pdf",
        "--output",
        str(output),
        stdout=out,
    )
    assert out.getvalue().strip() == f"Wrote {output}."
    text = flat(pdf_text(output.read_bytes()))
    assert "Evaluated on 1 June 2026" in text
    assert "탑티어 비자" in text and "EU Blue Card" in text
    assert "52,000" in text and "5.2E+4" not in text
    assert round(page_width_points(output.read_bytes())) == 595


def test_assess_prints_letter_paper_on_request(routes, answers_file, tmp_path):
    output = tmp_path / "results.pdf"
    call_command(
        "assess",
        str(answers_file),
        "--format",
        "pdf",
        "--output",
        str(output),
        "--paper",
        "letter",
        stdout=io.StringIO(),
    )
    assert round(page_width_points(output.read_bytes())) == 612


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "--format pdf needs --output FILE"),
        (["--output", "x.pdf"], "--output is for --format pdf"),
        (["--format", "pdf", "--output", "/no/such/dir/x.pdf"], "Cannot write /no/such/dir/x.pdf"),
    ],
)
def test_assess_pdf_mistakes_get_one_clear_line_and_status_2(routes, answers_file, args, message):
    with pytest.raises(CommandError, match=message) as caught:
        call_command("assess", str(answers_file), *args, stdout=io.StringIO())
    assert caught.value.returncode == 2
