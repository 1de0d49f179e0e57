"""Answers as people type them: money in their locale, confirmed back when it reads two ways;
years about the past that cannot be in the future; widgets chosen by the form."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from eligibility.answers import AmbiguousAmount, AnswerError, money_readings, parse_answer
from eligibility.engine import Kind, QuestionRule
from eligibility.forms import AnswerForm
from eligibility.models import Answer, Assessment
from tests.factories import QuestionFactory, RouteFactory, blue_card

SALARY = QuestionRule(
    "offered_salary", "What annual gross salary?", Kind.MONEY, short_label="offered salary",
    min_value=Decimal(0), max_value=Decimal(1_000_000_000), unit="year",
)  # fmt: skip
HOURLY = QuestionRule("nz_hourly_wage", "Hourly wage?", Kind.MONEY, unit="hour")
YEAR = QuestionRule(
    "graduation_year", "In which year?", Kind.INTEGER, short_label="graduation year",
    min_value=Decimal(1950), max_value=Decimal(2035), month_key="graduation_month",
)  # fmt: skip
MONTH = QuestionRule(
    "graduation_month", "In which month?", Kind.CHOICE,
    choices=tuple((str(n), dt.date(2000, n, 1).strftime("%B")) for n in range(1, 13)),
)  # fmt: skip
HTMX = {"HTTP_HX_REQUEST": "true"}


# --- Reading amounts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("52000", "52000"),
        ("52 000", "52000"),
        ("52\u00a0000", "52000"),
        ("52'000", "52000"),
        ("€52k", "52000"),
        ("52k", "52000"),
        ("€52,000.50", "52000.5"),
        ("52.000,50", "52000.5"),
        ("1.000.000", "1000000"),
        ("1,000,000", "1000000"),
        ("52,5", "52.5"),
        ("52.50", "52.5"),
        ("１２７０", "1270"),
    ],
)
def test_an_unambiguous_amount_is_read_as_typed(typed, amount):
    assert parse_answer(SALARY, typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["52.000", "52,000", "€52,000", "1.270"])
def test_one_mark_before_three_digits_reads_two_ways_thousands_first(typed):
    with pytest.raises(AmbiguousAmount) as raised:
        parse_answer(SALARY, typed)
    whole, _, fraction = typed.lstrip("€").replace(",", ".").partition(".")
    assert raised.value.readings == (Decimal(whole + fraction), Decimal(f"{whole}.{fraction}"))


def test_an_hourly_wage_that_reads_two_ways_offers_the_smaller_amount_first():
    with pytest.raises(AmbiguousAmount) as raised:
        parse_answer(HOURLY, "52.000")
    assert raised.value.readings == (Decimal(52), Decimal(52000))


def test_a_reading_outside_the_range_leaves_one_reading_which_is_taken():
    capped = QuestionRule("funds", "Funds?", Kind.MONEY, max_value=Decimal(10_000))
    floored = QuestionRule("funds", "Funds?", Kind.MONEY, min_value=Decimal(1_000))
    assert parse_answer(capped, "52.000") == Decimal(52)
    assert parse_answer(floored, "1.270") == Decimal(1270)


@pytest.mark.parametrize("typed", ["lots", "", "1.270.5", "5 2", "1E-3", "52,000.000,5", "-5"])
def test_an_unreadable_amount_says_how_to_write_one(typed):
    with pytest.raises(AnswerError, match="as an amount in numbers, like 52000 or 52,000"):
        parse_answer(SALARY, typed)


def test_money_readings_are_empty_for_text_that_is_not_an_amount():
    assert money_readings("fifty thousand") == ()


# --- Confirming an amount ---------------------------------------------------------------------


@pytest.fixture
def assessment(db):
    blue_card()
    assessment = Assessment.objects.create()
    for key, value in {
        "citizenship": ["IN"],
        "current_country": "IN",
        "destination_countries": None,
        "job_offer_country": "DE",
    }.items():
        Answer.objects.create(assessment=assessment, question_key=key, value=value)
    return assessment


def salary_url(assessment, suffix=""):
    return reverse("question", args=[assessment.token, "offered_salary"]) + suffix


def saved_salary(assessment):
    row = Answer.objects.filter(assessment=assessment, question_key="offered_salary").first()
    return row.value if row else None


def test_an_ambiguous_salary_is_confirmed_back_and_nothing_is_saved(client, assessment):
    response = client.post(salary_url(assessment), {"answer": "52.000"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Did you mean €52,000 a year?" in page
    assert 'type="radio" name="answer" value="52000"' in page
    assert 'value="52"' in page and "€52 a year" in page
    assert "There is a problem" not in page and "<title>Error" not in page
    assert saved_salary(assessment) is None


def test_a_confirmed_reading_is_saved_and_the_flow_goes_on(client, assessment):
    client.post(salary_url(assessment), {"answer": "52.000"})
    response = client.post(salary_url(assessment), {"answer": "52000"})
    assert response.status_code == 302
    assert saved_salary(assessment) == "52000"


def test_with_htmx_an_ambiguous_salary_comes_back_as_a_step_asking_which(client, assessment):
    response = client.post(salary_url(assessment), {"answer": "52,000"}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert "Did you mean €52,000 a year?" in page
    assert saved_salary(assessment) is None


def test_confirming_never_changes_a_saved_salary_until_the_applicant_chooses(client, assessment):
    client.post(salary_url(assessment), {"answer": "60 000"})
    assert saved_salary(assessment) == "60000"
    client.post(salary_url(assessment), {"answer": "52.000"})
    assert saved_salary(assessment) == "60000"
    client.post(salary_url(assessment), {"answer": "lots"})
    assert saved_salary(assessment) == "60000"


def test_an_unambiguous_salary_is_saved_directly(client, assessment):
    response = client.post(salary_url(assessment), {"answer": "€52,000.50"})
    assert response.status_code == 302
    assert saved_salary(assessment) == "52000.5"


def test_without_an_offer_country_currency_the_reading_has_no_symbol(client, assessment):
    Answer.objects.filter(assessment=assessment, question_key="job_offer_country").update(
        value="FR"
    )
    page = client.post(salary_url(assessment), {"answer": "52.000"}).content.decode()
    assert "Did you mean 52,000 a year?" in page


# --- Years about the past ---------------------------------------------------------------------


def test_a_graduation_year_this_year_is_accepted_and_next_year_is_refused():
    on = dt.date(2026, 12, 4)
    this_year = AnswerForm(YEAR, {"answer": "2026"}, on=on)
    next_year = AnswerForm(YEAR, {"answer": "2027"}, on=on)
    assert this_year.is_valid() and this_year.cleaned_data["answer"] == 2026
    assert not next_year.is_valid()
    assert next_year.error == (
        "Enter your graduation year as a whole number from 1950 to 2026: "
        "it cannot be in the future."
    )


def test_a_year_out_of_range_prints_years_without_thousands_separators():
    form = AnswerForm(YEAR, {"answer": "1900"}, on=dt.date(2026, 12, 4))
    assert not form.is_valid()
    assert "from 1950 to 2035" in form.error and "1,950" not in form.error


def test_this_years_month_is_refused_after_today_and_accepted_up_to_it():
    on = dt.date(2026, 6, 15)
    answers = {"graduation_year": 2026}
    june = AnswerForm(MONTH, {"answer": "6"}, on=on, answers=answers, year_question=YEAR)
    july = AnswerForm(MONTH, {"answer": "7"}, on=on, answers=answers, year_question=YEAR)
    assert june.is_valid()
    assert not july.is_valid()
    assert july.error == "Choose a month no later than June 2026: it cannot be in the future."


def test_a_later_month_of_an_earlier_year_is_fine():
    on = dt.date(2026, 6, 15)
    form = AnswerForm(
        MONTH, {"answer": "12"}, on=on, answers={"graduation_year": 2025}, year_question=YEAR
    )
    assert form.is_valid()


def test_a_future_graduation_year_is_refused_on_the_page_and_not_saved(client, assessment):
    url = reverse("question", args=[assessment.token, "graduation_year"])
    next_year = timezone.localdate().year + 1
    page = client.post(url, {"answer": str(next_year)}).content.decode()
    assert "it cannot be in the future" in page
    assert 'aria-invalid="true"' in page
    assert not Answer.objects.filter(assessment=assessment, question_key="graduation_year")


# --- The form chooses its widget --------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "widget"),
    [
        (SALARY, "text"),
        (YEAR, "text"),
        (MONTH, "radios"),
        (QuestionRule("stem", "STEM?", Kind.BOOLEAN), "radios"),
        (QuestionRule("offer", "Offer?", Kind.COUNTRY, choices=(("none", "No"),)), "country"),
        (QuestionRule("citizenship", "Citizen?", Kind.COUNTRIES), "countries"),
        (QuestionRule("go", "Go?", Kind.COUNTRIES, choices=(("DE", "Germany"),)), "checkboxes"),
    ],
)  # fmt: skip
def test_the_form_chooses_its_widget_by_the_kind_of_question(question, widget):
    assert AnswerForm(question).widget == widget


def test_a_whole_number_gets_a_numeric_keyboard_and_money_a_decimal_one():
    assert AnswerForm(YEAR).inputmode == "numeric"
    assert AnswerForm(SALARY).inputmode == "decimal"


@pytest.mark.parametrize("typed", ["$52,000.50", "£52k", "52000 USD", "¥52000", "₩52,000.50"])
def test_a_salary_in_another_currency_is_refused_and_nothing_changes(client, assessment, typed):
    client.post(salary_url(assessment), {"answer": "60 000"})
    response = client.post(salary_url(assessment), {"answer": typed})
    assert response.status_code == 200
    assert (
        "Enter your offered salary in EUR (€), the currency it is asked in: the amount you "
        "typed names another currency." in response.content.decode()
    )
    assert saved_salary(assessment) == "60000"


@pytest.mark.parametrize("typed", ["€52,000.50", "EUR 52,000.50", "52000.50 eur", "52 000,50"])
def test_a_salary_in_the_offers_currency_or_none_is_taken(client, assessment, typed):
    assert client.post(salary_url(assessment), {"answer": typed}).status_code == 302
    assert saved_salary(assessment) == "52000.5"


def test_funds_the_uk_asks_for_are_in_pounds_whatever_the_offers_country(client, assessment):
    """Before: a German offer put "EUR" beside the UK's funds question (section "United
    Kingdom"), and "€1,270" was taken for it."""
    RouteFactory(slug="uk-hpi", name="High Potential Individual visa", country="GB", currency="GBP")
    QuestionFactory(
        key="uk_hpi_funds",
        label="How much money have you held?",
        short_label="funds held for 28 days",
        kind="money",
        section="United Kingdom",
        min_value=0,
    )
    url = reverse("question", args=[assessment.token, "uk_hpi_funds"])
    page = client.get(url).content.decode()
    assert '<span class="input-suffix">GBP</span>' in page
    response = client.post(url, {"answer": "€1,270"})
    assert "Enter your funds held for 28 days in GBP (£)" in response.content.decode()
    assert client.post(url, {"answer": "£1270"}).status_code == 302
