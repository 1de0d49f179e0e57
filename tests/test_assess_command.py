"""`manage.py assess`: answers in, verdicts out; bad input gets one clear line and status 2."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from eligibility.models import Question
from tests.factories import RequirementFactory, RouteFactory, blue_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def answers_file(tmp_path):
    def write(data: object) -> str:
        path = tmp_path / "answers.json"
        path.write_text(json.dumps(data) if not isinstance(data, str) else data)
        return str(path)

    return write


def assess(*args: str) -> str:
    out = io.StringIO()
    call_command("assess", *args, stdout=out)
    return out.getvalue()


def test_json_output_has_the_documented_shape(answers_file):
    blue_card()
    path = answers_file({"citizenship": "IN", "job_offer_country": "DE", "offered_salary": 52000})
    data = json.loads(assess(path, "--on", "2026-06-01", "--format", "json"))
    assert data["evaluated_on"] == "2026-06-01"
    (route,) = data["routes"]
    assert route["slug"] == "de-blue-card"
    assert (route["verdict"], route["needs_no_visa"], route["closed"]) == ("fits", False, None)
    assert route["points"] is None
    assert {"question", "outcome", "rule", "explanation", "value"} <= set(route["requirements"][1])
    assert [r["question"] for r in route["requirements"]] == [
        "citizenship",
        "job_offer_country",
        "offered_salary",
    ]
    assert [r["outcome"] for r in route["requirements"]] == ["met", "met", "met"]
    salary = route["requirements"][2]
    assert salary["value"]["value"] == "50700"
    assert salary["value"]["effective_from"] == "2026-01-01"
    assert salary["rule"] == "Offered salary must be at least €50,700 a year (from 1 January 2026)"
    assert route["open_questions"][0]["text"] == "27 or 21 months?"


def test_citizenship_is_a_list_or_one_code_and_a_citizen_needs_no_visa(answers_file):
    blue_card()
    for given in ("DE", ["IN", "DE"]):
        path = answers_file(
            {"citizenship": given, "job_offer_country": "DE", "offered_salary": 90000}
        )
        (route,) = json.loads(assess(path, "--on", "2026-06-01", "--format", "json"))["routes"]
        assert (route["verdict"], route["needs_no_visa"]) == ("does_not_fit", True)
        assert route["reason"] == (
            "You are a citizen of Germany, so you need no visa to live and work there."
        )


def test_a_graduation_month_decides_a_boundary_year(answers_file):
    card = RouteFactory(slug="recent")
    RequirementFactory(
        route=card,
        question=Question.objects.get(key="graduation_year"),
        operator="gte",
        value={"years_before": 3},
    )
    base = {"citizenship": "IN", "graduation_year": 2023}
    verdict = lambda answers: json.loads(  # noqa: E731
        assess(answers_file(answers), "--on", "2026-11-28", "--format", "json")
    )["routes"][0]["verdict"]
    assert verdict(base) == "may_fit"
    assert verdict({**base, "graduation_month": 1}) == "does_not_fit"
    assert verdict({**base, "graduation_month": "12"}) == "fits"


def test_on_selects_the_rules_in_force_that_day(answers_file):
    blue_card()
    path = answers_file({"citizenship": "IN", "job_offer_country": "DE", "offered_salary": 49000})
    in_2025 = json.loads(assess(path, "--on", "2025-06-01", "--format", "json"))
    in_2026 = json.loads(assess(path, "--on", "2026-06-01", "--format", "json"))
    assert in_2025["routes"][0]["verdict"] == "fits"
    assert in_2026["routes"][0]["verdict"] == "does_not_fit"
    assert in_2026["routes"][0]["gaps"] == ["€1,700 short of €50,700 a year (from 1 January 2026)."]


def test_null_means_dont_know_and_a_missing_key_means_unanswered(answers_file):
    blue_card()
    data = json.loads(
        assess(
            answers_file({"citizenship": "IN", "job_offer_country": "DE", "offered_salary": None}),
            "--on",
            "2026-06-01",
            "--format",
            "json",
        )
    )
    kinds = [o["kind"] for o in data["routes"][0]["open_questions"]]
    assert kinds[0] == "dont_know"
    data = json.loads(
        assess(
            answers_file({"citizenship": "IN", "job_offer_country": "DE"}),
            "--on",
            "2026-06-01",
            "--format",
            "json",
        )
    )
    assert data["routes"][0]["open_questions"][0]["kind"] == "unanswered"


def test_text_output_groups_routes_by_verdict(answers_file):
    blue_card()
    text = assess(
        answers_file({"job_offer_country": "DE", "offered_salary": 45000}), "--on", "2026-06-01"
    )
    assert "DOES NOT FIT (1)" in text
    assert "EU Blue Card (DE)" in text
    assert "Gap: €5,700 short of €50,700 a year (from 1 January 2026)." in text


def test_stdin_is_read_with_a_dash(monkeypatch):
    blue_card()
    monkeypatch.setattr("sys.stdin", io.StringIO('{"job_offer_country": "US"}'))
    assert "DOES NOT FIT" in assess("-", "--on", "2026-06-01")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"salary": 1}, "Unknown question key “salary”. Known keys: age,"),
        ({"age": "abc"}, "age: Enter your age as a whole number from 16 to 100."),
        ({"age": 12}, "age: Enter your age as a whole number from 16 to 100."),
        ({"age": True}, "age: Enter your age as a whole number from 16 to 100."),
        (
            {"education_level": "phd"},
            "education_level: Choose one of the options for your "
            "highest qualification: none, secondary, vocational, bachelor, master, doctorate.",
        ),
        (
            {"job_offer_country": "Germany"},
            "job_offer_country: Enter your job offer country as "
            "a two-letter ISO country code, like DE or IN, or none.",
        ),
        ({"stem_field": "maybe"}, "stem_field: Choose yes or no for your STEM field."),
        ("[1, 2]", "must hold a JSON object"),
        ("{not json", "is not valid JSON"),
    ],
)
def test_bad_input_gets_one_clear_line_and_status_2(answers_file, content, message):
    with pytest.raises(CommandError) as caught:
        assess(answers_file(content))
    assert message in str(caught.value)
    assert caught.value.returncode == 2


def test_a_bad_date_gets_status_2(answers_file):
    with pytest.raises(CommandError, match="not a date") as caught:
        assess(answers_file({}), "--on", "2026-13-01")
    assert caught.value.returncode == 2
