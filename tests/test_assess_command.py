"""`manage.py assess`: answers in, verdicts out; bad input gets one clear line and status 2."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import blue_card

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
    path = answers_file({"job_offer_country": "DE", "offered_salary": 52000})
    data = json.loads(assess(path, "--on", "2026-06-01", "--format", "json"))
    assert data["evaluated_on"] == "2026-06-01"
    (route,) = data["routes"]
    assert route["slug"] == "de-blue-card"
    assert route["verdict"] == "fits"
    assert route["points"] is None
    assert {"question", "outcome", "explanation"} <= set(route["requirements"][0])
    assert [r["outcome"] for r in route["requirements"]] == ["met", "met"]
    assert route["open_questions"][0]["text"] == "27 or 21 months?"


def test_on_selects_the_rules_in_force_that_day(answers_file):
    blue_card()
    path = answers_file({"job_offer_country": "DE", "offered_salary": 49000})
    in_2025 = json.loads(assess(path, "--on", "2025-06-01", "--format", "json"))
    in_2026 = json.loads(assess(path, "--on", "2026-06-01", "--format", "json"))
    assert in_2025["routes"][0]["verdict"] == "fits"
    assert in_2026["routes"][0]["verdict"] == "does_not_fit"
    assert in_2026["routes"][0]["gaps"] == ["€1,700 below the 2026 threshold of €50,700."]


def test_null_means_dont_know_and_a_missing_key_means_unanswered(answers_file):
    blue_card()
    data = json.loads(
        assess(
            answers_file({"job_offer_country": "DE", "offered_salary": None}),
            "--on",
            "2026-06-01",
            "--format",
            "json",
        )
    )
    kinds = [o["kind"] for o in data["routes"][0]["open_questions"]]
    assert kinds[0] == "dont_know"
    data = json.loads(
        assess(answers_file({"job_offer_country": "DE"}), "--on", "2026-06-01", "--format", "json")
    )
    assert data["routes"][0]["open_questions"][0]["kind"] == "unanswered"


def test_text_output_groups_routes_by_verdict(answers_file):
    blue_card()
    text = assess(
        answers_file({"job_offer_country": "DE", "offered_salary": 45000}), "--on", "2026-06-01"
    )
    assert "DOES NOT FIT (1)" in text
    assert "EU Blue Card (DE)" in text
    assert "Gap: €5,700 below the 2026 threshold of €50,700." in text


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
