"""The results PDF: same template as the results page, readable text in any script, a fetcher
that reads only static files, and a download only the token holder can get."""

from __future__ import annotations

import http.server
import io
import threading
import urllib.request

import pytest
from django.conf import settings
from django.test import override_settings
from pypdf import PdfReader

from eligibility import pdf


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


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


def test_data_urls_are_allowed():
    response = pdf.StaticFilesFetcher().fetch("data:text/css,p%7Bcolor:red%7D")
    assert response.read() == b"p{color:red}"
