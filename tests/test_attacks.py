"""What an attack on the production build found (issue 14), each kept closed by a test: hostile
answers, expired assessments, caching of personal pages, odd requests, forged or garbled proxy
headers, and the per-client limits on answers and PDFs."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from eligibility.answers import AnswerError, parse_answer
from eligibility.engine import Kind, QuestionRule
from eligibility.models import Answer, Assessment, Question, ResultsPdf
from tests.test_production import question_form

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def assessment(imported_catalogue) -> Assessment:
    made = Assessment.objects.create()
    Answer.objects.create(assessment=made, question_key="ielts_overall", value=7)
    Answer.objects.create(assessment=made, question_key="age", value=29)
    return made


def answer(client, assessment: Assessment, key: str, typed: str, **extra):
    return client.post(
        reverse("question", args=[assessment.token, key]), {"answer": typed}, **extra
    )


def saved(assessment: Assessment, key: str):
    return Answer.objects.get(assessment=assessment, question_key=key).value


# --- Row 1 and "bound every input by what it means" -------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "1E-300000000",  # 300 million digits once stored
        "1E-99999999",
        "1e+999999999",
        "6.5E-21",
        "0.00000000000000000000000000000000006",  # 35 decimal places: digits, not size
        "6.50000000000000000000001",  # more digits than any band needs
        "NaN",
        "-Infinity",
        "6" * 41,
    ],
)
def test_a_hostile_decimal_is_refused_with_a_message_and_keeps_the_saved_answer(
    client, assessment, typed
):
    response = answer(client, assessment, "ielts_overall", typed)

    assert response.status_code == 200
    assert "Enter your" in response.content.decode()
    assert saved(assessment, "ielts_overall") == 7


@pytest.mark.parametrize("typed", ["3" + "0" * 4999, "1" * 25, "29.0000000000000000000001"])
def test_a_whole_number_with_too_many_digits_is_refused_and_keeps_the_saved_age(
    client, assessment, typed
):
    response = answer(client, assessment, "age", typed)

    assert response.status_code == 200
    assert "whole number" in response.content.decode()
    assert saved(assessment, "age") == 29


def test_a_decimal_with_as_many_digits_as_a_band_needs_is_still_taken(client, assessment):
    response = answer(client, assessment, "ielts_overall", "6.5")

    assert response.status_code == 302
    assert Decimal(str(saved(assessment, "ielts_overall"))) == Decimal("6.5")


def test_a_second_citizenship_longer_than_any_country_code_is_refused(client, assessment):
    response = client.post(
        reverse("question", args=[assessment.token, "citizenship"]),
        {"answer": "IN", "also": "G" * 10_000},
    )

    assert response.status_code == 200
    assert not Answer.objects.filter(assessment=assessment, question_key="citizenship").exists()


# --- Row 4: an expired assessment is gone everywhere, its PDF included -----------------------


def expire(assessment: Assessment, settings) -> None:
    Assessment.objects.filter(pk=assessment.pk).update(
        created_at=timezone.now() - dt.timedelta(days=settings.ASSESSMENT_RETENTION_DAYS, seconds=1)
    )


@pytest.fixture
def ready_pdf(assessment) -> ResultsPdf:
    return ResultsPdf.objects.create(
        assessment=assessment,
        fingerprint="f" * 64,
        page_size="A4",
        status=ResultsPdf.Status.READY,
        content=b"%PDF-1.7 answers",
        pages=1,
    )


def test_a_pdf_is_served_the_day_before_its_assessment_expires(client, ready_pdf, settings):
    token = ready_pdf.assessment.token
    Assessment.objects.filter(pk=ready_pdf.assessment.pk).update(
        created_at=timezone.now()
        - dt.timedelta(days=settings.ASSESSMENT_RETENTION_DAYS)
        + dt.timedelta(minutes=1)
    )

    response = client.get(reverse("pdf_file", args=[token, ready_pdf.pk]))

    assert response.status_code == 200


@pytest.mark.parametrize("pdf_page", ["pdf", "pdf_file"])
def test_an_expired_assessments_pdf_is_a_404_like_its_other_pages(
    client, ready_pdf, settings, pdf_page
):
    token = ready_pdf.assessment.token
    expire(ready_pdf.assessment, settings)

    assert client.get(reverse(pdf_page, args=[token, ready_pdf.pk])).status_code == 404
    assert client.get(reverse("results", args=[token])).status_code == 404
    assert client.post(reverse("ask_for_pdf", args=[token])).status_code == 404


def test_every_page_fetches_assessments_through_the_live_queryset():
    """One way for a page to fetch an assessment: `Assessment.objects.live()`; a page that
    skipped it would serve an expired assessment, as the PDF page once did."""
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "eligibility"
    lookups = [
        f"{path.name}: {lookup}"
        for path in sorted(package.glob("views*.py"))
        for lookup in re.findall(r"Assessment\.objects\.?\w*", path.read_text())
    ]
    assert lookups, "the pages fetch assessments somewhere"
    assert [lookup for lookup in lookups if not lookup.endswith(".live")] == [
        "views.py: Assessment.objects.create"
    ]


# --- Row 5: personal pages are never stored by a browser or a proxy ---------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("question", ["age"]),
        ("check", []),
        ("results", []),
        ("delete", []),
        ("resume", []),
        ("back", ["age"]),
    ],
)
def test_personal_pages_tell_browsers_and_proxies_not_to_store_them(client, assessment, name, args):
    response = client.get(reverse(name, args=[assessment.token, *args]))

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_an_htmx_answer_and_a_refused_answer_are_not_stored_either(client, assessment):
    good = answer(client, assessment, "age", "30", **HTMX)
    bad = answer(client, assessment, "age", "abc")

    assert "no-store" in good["Cache-Control"]
    assert "no-store" in bad["Cache-Control"]


def test_the_pdf_status_page_is_not_stored(client, ready_pdf):
    response = client.get(reverse("pdf", args=[ready_pdf.assessment.token, ready_pdf.pk]))

    assert "no-store" in response["Cache-Control"]


def test_the_start_page_holds_nothing_personal_and_may_be_cached(client, db):
    assert "no-store" not in client.get("/").get("Cache-Control", "")


# --- Rows 8, 9 and 10: odd requests and headers -----------------------------------------------


@pytest.mark.parametrize("charset", ["utf-16", "utf-32", "utf-16-be", "cp037", "no-such-charset"])
def test_a_form_post_in_another_encoding_is_refused_with_a_clear_400(client, assessment, charset):
    response = client.generic(
        "POST",
        reverse("question", args=[assessment.token, "age"]),
        "answer=30".encode("utf-16"),
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )

    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()
    assert saved(assessment, "age") == 29


def test_a_form_post_in_utf_8_or_latin_1_charset_label_is_read(client, assessment):
    response = client.post(
        reverse("question", args=[assessment.token, "age"]),
        b"answer=31",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )

    assert response.status_code == 302
    assert saved(assessment, "age") == 31


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("start", None),
        ("question", ["age"]),
        ("check", []),
        ("results", []),
        ("delete", []),
        ("deleted", None),
    ],
)
def test_head_is_answered_like_get_without_a_body(client, assessment, name, args):
    url = reverse(name) if args is None else reverse(name, args=[assessment.token, *args])

    response = client.head(url)

    assert response.status_code == 200
    assert response.content == b""


def test_head_on_a_pdf_page_and_the_file(client, ready_pdf):
    token = ready_pdf.assessment.token
    assert client.head(reverse("pdf", args=[token, ready_pdf.pk])).status_code == 200
    assert client.head(reverse("pdf_file", args=[token, ready_pdf.pk])).status_code == 200


def test_head_changes_nothing_on_the_delete_page(client, assessment):
    client.head(reverse("delete", args=[assessment.token]))

    assert Assessment.objects.filter(pk=assessment.pk).exists()


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/no-such-page/"])
def test_every_response_turns_off_browser_features_the_site_never_uses(client, db, path):
    policy = client.get(path)["Permissions-Policy"]

    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy


# --- Rows 7 and 13: the client's address is the one the app trusts ----------------------------


@pytest.fixture
def adviser(imported_catalogue) -> User:
    user = User.objects.create_superuser("ada", "ada@example.org", "a long passphrase 1")
    return user


def relabel_age(client, adviser: User, **meta) -> LogEntry:
    """Change the age question's label in the admin, as seen from `meta`; its log entry."""
    client.force_login(adviser)
    question = Question.objects.get(key="age")
    url = reverse("admin:eligibility_question_change", args=[question.pk])
    response = client.post(url, question_form(question, label="How old are you now?"), **meta)
    assert response.status_code == 302, response.content.decode()[:2000]
    return LogEntry.objects.get_for_object(question).get()


def test_the_audit_trail_records_the_address_the_app_trusts_not_a_forged_header(
    client, adviser, settings
):
    settings.TRUSTED_PROXY_COUNT = 0

    entry = relabel_age(
        client,
        adviser,
        REMOTE_ADDR="203.0.113.7",
        REMOTE_PORT="50123",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
        HTTP_X_FORWARDED_PORT="1",
    )

    assert (entry.remote_addr, entry.remote_port) == ("203.0.113.7", 50123)


def test_behind_one_proxy_the_audit_trail_records_the_address_our_proxy_saw(
    client, adviser, settings
):
    settings.TRUSTED_PROXY_COUNT = 1

    entry = relabel_age(
        client,
        adviser,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4",
        HTTP_X_FORWARDED_PORT="1",
    )

    assert (entry.remote_addr, entry.remote_port) == ("198.51.100.4", None)


@pytest.mark.parametrize(
    "forwarded", ["garbage", "1.2.3.4.5", "999.1.1.1", "::zz", "<script>", "1.2.3.4, garbage"]
)
def test_a_garbled_forwarded_address_behind_our_proxy_falls_back_to_the_proxys_address(
    client, adviser, settings, forwarded
):
    settings.TRUSTED_PROXY_COUNT = 1

    response = client.post(
        reverse("admin:login"),
        {"username": "ada", "password": "wrong"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=forwarded,
    )

    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_a_forwarded_address_with_a_port_or_brackets_is_read_as_the_address(rf, settings):
    from eligibility.throttle import client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    for forwarded, address in [
        ("2001:db8::1", "2001:db8::1"),
        ("198.51.100.4", "198.51.100.4"),
    ]:
        request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
        assert client_ip(request) == address


# --- Per-client limits on answers --------------------------------------------------------------


def test_a_client_may_answer_up_to_the_limit_and_is_then_told_to_wait(client, assessment, settings):
    settings.ANSWERS_LIMIT = 3
    settings.ANSWERS_WINDOW_SECONDS = 60

    allowed = [answer(client, assessment, "age", str(30 + n)).status_code for n in range(3)]
    refused = answer(client, assessment, "age", "40")

    assert allowed == [302, 302, 302]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "paused saving new ones" in refused.content.decode()
    assert saved(assessment, "age") == 32


def test_reading_pages_does_not_count_against_the_answer_limit(client, assessment, settings):
    settings.ANSWERS_LIMIT = 1

    for _ in range(3):
        assert client.get(reverse("question", args=[assessment.token, "age"])).status_code == 200
    assert answer(client, assessment, "age", "33").status_code == 302


def test_the_answer_limit_counts_each_client_apart(client, assessment, settings):
    settings.ANSWERS_LIMIT = 1

    assert answer(client, assessment, "age", "33", REMOTE_ADDR="192.0.2.1").status_code == 302
    assert answer(client, assessment, "age", "34", REMOTE_ADDR="192.0.2.2").status_code == 302
    assert answer(client, assessment, "age", "35", REMOTE_ADDR="192.0.2.1").status_code == 429


def test_the_pdf_limit_is_a_setting(client, assessment, settings):
    settings.PDF_REQUESTS_LIMIT = 1
    token = assessment.token

    assert client.post(reverse("ask_for_pdf", args=[token])).status_code == 302
    assert client.post(reverse("ask_for_pdf", args=[token])).status_code == 429


def test_an_answer_over_the_limit_sent_by_htmx_comes_back_as_the_step_with_the_message(
    client, assessment, settings
):
    settings.ANSWERS_LIMIT = 0

    refused = answer(client, assessment, "age", "40", **HTMX)

    assert refused.status_code == 429
    page = refused.content.decode()
    assert 'id="step"' in page and "paused saving new ones" in page
    assert 'value="40"' in page  # what was typed is kept to send again


def test_a_pdf_asked_for_over_the_limit_with_htmx_gets_the_message_where_the_status_goes(
    client, assessment, settings
):
    settings.PDF_REQUESTS_LIMIT = 0

    refused = client.post(reverse("ask_for_pdf", args=[assessment.token]), **HTMX)

    assert refused.status_code == 429
    page = refused.content.decode()
    assert "<html" not in page  # swapped into the status region, not a whole page in a page
    assert "a PDF already made can still be downloaded" in page


def test_a_head_response_leaves_the_body_out_and_keeps_the_length_get_would_have(rf):
    from django.http import HttpResponse

    from eligibility.middleware import head_without_body

    respond = head_without_body(lambda request: HttpResponse(b"<p>results</p>"))

    head = respond(rf.head("/"))
    get = respond(rf.get("/"))

    assert (head.content, head["Content-Length"]) == (b"", "14")
    assert get.content == b"<p>results</p>"


@pytest.mark.parametrize("choices", ["5", '"b1"', '{"b1": "B1"}'])
def test_question_choices_that_are_not_a_list_get_a_message_in_the_admin(client, adviser, choices):
    client.force_login(adviser)
    question = Question.objects.get(key="education_level")
    url = reverse("admin:eligibility_question_change", args=[question.pk])
    page = client.get(url)
    assert page.status_code == 200

    response = client.post(url, question_form(question, choices=choices))

    assert response.status_code == 200
    assert "Write choices as [value, label] pairs" in response.content.decode()
    question.refresh_from_db()
    assert question.choices and isinstance(question.choices, list)


def test_a_number_too_large_to_write_out_is_refused_not_written():
    from eligibility import wording

    with pytest.raises(ValueError, match="out of range"):
        wording.format_money(Decimal("1E+99999999"), "EUR")
    assert wording.format_money(Decimal("1E+12"), "EUR") == "€1,000,000,000,000"


# --- Both sides of each bound -----------------------------------------------------------------

UNBOUNDED = QuestionRule("figure", "A figure?", Kind.DECIMAL, short_label="figure")


@pytest.mark.parametrize(
    ("typed", "taken"),
    [
        ("123456789.012345", True),  # 15 significant digits
        ("123456789.0123456", False),  # 16
        ("12345678901.23400000", True),  # trailing zeros are no digits of meaning
        ("1E-20", True),
        ("1E-21", False),
        ("99999999999", True),  # within LARGEST, 10**12
    ],
)
def test_a_number_is_taken_up_to_its_digit_and_exponent_bounds_and_refused_past_them(typed, taken):
    try:
        parse_answer(UNBOUNDED, typed)
    except AnswerError:
        assert not taken
    else:
        assert taken
