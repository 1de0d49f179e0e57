"""`check_catalogue` finds what advisers must fix in the stored catalogue: gates of published
routes with no value on some date up to two years ahead, values and conditions that do not read,
values in force together, and sources that are a home page or newer than the route's check."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eligibility.checks import catalogue_problems
from eligibility.models import Question, Requirement, RequirementValue, Route
from tests.factories import (
    KeyFactFactory,
    OpenQuestionFactory,
    QuestionFactory,
    RequirementValueFactory,
    RouteFactory,
    blue_card,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 6, 1)  # so every gate needs a value up to 1 June 2028
D = dt.date


def gate(route: Route, *values: dict[str, object], key: str = "age", operator: str = "gte"):
    """A gate with `values` (dicts of RequirementValue fields), stored without validation, as
    SQL or an old row could have them."""
    requirement = Requirement.objects.create(
        route=route, question=Question.objects.get(key=key), operator=operator, order=1
    )
    for fields in values:
        RequirementValueFactory(requirement=requirement, **{"value": 18, **fields})
    return requirement


def problems(today: dt.date = TODAY) -> list[str]:
    return catalogue_problems(today)


def test_the_migrated_questions_and_a_well_kept_route_have_no_problems():
    route = RouteFactory(slug="tidy")
    gate(
        route,
        {"effective_from": D(2025, 1, 1), "effective_until": D(2026, 12, 31)},
        {"value": 21, "effective_from": D(2027, 1, 1)},
    )
    KeyFactFactory(route=route)
    OpenQuestionFactory(route=route)
    blue_card()
    assert problems() == []


# --- (a) every gate of a published route has a value on every date, two years ahead -----------


def test_a_value_ending_with_nothing_after_it_is_reported_with_the_dates():
    route = RouteFactory(slug="ends")
    gate(route, {"effective_from": D(2025, 1, 1), "effective_until": D(2027, 12, 31)})
    assert problems() == [
        "ends (published), gate 1 (every pathway / age / gte): no value in force from "
        "2028-01-01 to 2028-06-01 (if the rule is not known then, add an unclear value for "
        "those dates)."
    ]


def test_an_unclear_value_after_it_counts_as_covered():
    route = RouteFactory(slug="ends")
    gate(
        route,
        {"effective_from": D(2025, 1, 1), "effective_until": D(2027, 12, 31)},
        {
            "value": None,
            "certainty": "unclear",
            "effective_from": D(2028, 1, 1),
            "note": "The 2028 threshold is not yet published.",
        },
    )
    assert problems() == []


def test_the_horizon_is_two_years_after_the_day_checked():
    route = RouteFactory(slug="horizon")
    gate(route, {"effective_from": D(2025, 1, 1), "effective_until": D(2028, 6, 1)})
    assert problems() == []
    assert problems(TODAY + dt.timedelta(days=1)) == [
        "horizon (published), gate 1 (every pathway / age / gte): no value in force from "
        "2028-06-02 to 2028-06-02 (if the rule is not known then, add an unclear value for "
        "those dates)."
    ]


def test_two_years_after_29_february_is_28_february():
    route = RouteFactory(slug="leap")
    gate(route, {"effective_from": D(2025, 1, 1), "effective_until": D(2030, 2, 28)})
    assert problems(D(2028, 2, 29)) == []
    assert problems(D(2028, 3, 1)) != []


def test_a_gap_between_two_values_is_reported():
    route = RouteFactory(slug="gap")
    gate(
        route,
        {"effective_from": D(2025, 1, 1), "effective_until": D(2025, 12, 31)},
        {"value": 21, "effective_from": D(2026, 2, 1)},
    )
    assert problems() == [
        "gap (published), gate 1 (every pathway / age / gte): no value in force from "
        "2026-01-01 to 2026-01-31 (if the rule is not known then, add an unclear value for "
        "those dates)."
    ]


def test_gates_are_checked_from_the_day_the_route_opens():
    late = RouteFactory(slug="late", opens_on=D(2025, 6, 1))
    gate(late, {"effective_from": D(2025, 7, 1)})
    on_time = RouteFactory(slug="on-time", opens_on=D(2025, 6, 1))
    gate(on_time, {"effective_from": D(2025, 6, 1)})
    assert [p.split(":", 1)[1] for p in problems()] == [
        " no value in force from 2025-06-01 to 2025-06-30 (if the rule is not known then, add "
        "an unclear value for those dates)."
    ]
    assert problems()[0].startswith("late (published)")


def test_without_an_opening_day_gates_are_checked_from_the_first_day_any_value_names():
    route = RouteFactory(slug="first-day")
    gate(route, {"effective_from": D(2025, 1, 1)})
    salary = gate(route, {"value": 50700, "effective_from": D(2026, 1, 1)}, key="offered_salary")
    assert problems() == [
        f"first-day (published), gate {salary.order} (every pathway / offered_salary / gte): "
        "no value in force from 2025-01-01 to 2025-12-31 (if the rule is not known then, add "
        "an unclear value for those dates)."
    ]


def test_a_value_that_ends_and_starts_nothing_dated_is_still_checked():
    route = RouteFactory(slug="expired")
    gate(route, {"effective_until": D(2024, 12, 31)})
    assert problems() == [
        "expired (published), gate 1 (every pathway / age / gte): no value in force from "
        "2025-01-01 to 2028-06-01 (if the rule is not known then, add an unclear value for "
        "those dates)."
    ]


def test_with_no_dated_value_and_no_opening_day_there_is_nothing_to_check():
    route = RouteFactory(slug="undated")
    gate(route, {})
    gate(route, {"value": 30}, key="years_experience", operator="lte")
    assert problems() == []


def test_nothing_after_the_route_closes_is_needed():
    route = RouteFactory(slug="closing", closes_on=D(2027, 12, 31))
    gate(route, {"effective_from": D(2025, 1, 1), "effective_until": D(2027, 12, 31)})
    assert problems() == []
    Route.objects.filter(pk=route.pk).update(closes_on=D(2028, 1, 1))
    assert problems() == [
        "closing (published), gate 1 (every pathway / age / gte): no value in force from "
        "2028-01-01 to 2028-01-01 (if the rule is not known then, add an unclear value for "
        "those dates)."
    ]


def test_a_draft_need_not_cover_every_date_yet():
    route = RouteFactory(slug="draft", status=Route.Status.DRAFT)
    gate(route, {"effective_from": D(2025, 1, 1), "effective_until": D(2027, 12, 31)})
    assert problems() == []


def test_a_gate_with_no_values_is_reported_for_drafts_too():
    route = RouteFactory(slug="empty", status=Route.Status.DRAFT)
    gate(route)
    assert problems() == [
        "empty (draft), gate 1 (every pathway / age / gte): has no values, so it is unknown "
        "on every date."
    ]


def test_the_pathway_names_the_gate():
    route = RouteFactory(slug="paths")
    requirement = gate(route, {"effective_until": D(2024, 12, 31)})
    Requirement.objects.filter(pk=requirement.pk).update(pathway="Graduate", order=4)
    assert problems()[0].startswith("paths (published), gate 4 (Graduate / age / gte): ")


# --- (b) every stored value reads for its question and operator --------------------------------


@pytest.mark.parametrize(
    "key, operator, stored, message",
    [
        ("age", "gte", "abc", "the stored value 'abc' does not read: “≥ abc” does not fit"),
        ("age", "gte", 150, "the stored value 150 does not read: “≥ 150” does not fit"),
        ("age", "gte", None, "the stored value None does not read: Enter a value for"),
        ("stem_field", "gt", True, "compares ordered values"),
        ("citizenship", "eq", "DE", "can have several answers"),
        ("university_rank", "in", ["top100", "top1"], "Choose one of the options"),
        ("offered_salary", "gte", "1E-300000000", "does not read"),
        ("job_offer_country", "eq", "de", "the value is stored as 'de' but reads as 'DE'"),
        ("age", "gte", "21", "the value is stored as '21' but reads as 21"),
    ],
)
def test_a_stored_value_that_does_not_read_is_reported(key, operator, stored, message):
    route = RouteFactory(slug="bad-value")
    gate(route, {"value": stored}, key=key, operator=operator)
    [problem] = problems()
    assert problem.startswith(
        f"bad-value (published), gate 1 (every pathway / {key} / {operator}): value from the "
        "start to no end: "
    )
    assert message in problem


def test_the_range_of_the_question_is_in_the_message():
    route = RouteFactory(slug="range")
    gate(route, {"value": 15, "effective_from": D(2025, 1, 1)})
    [problem] = problems()
    assert problem == (
        "range (published), gate 1 (every pathway / age / gte): value from 2025-01-01 to no "
        "end: the stored value 15 does not read: “≥ 15” does not fit “How old are you?”: Enter "
        "the value as a whole number from 16 to 100."
    )


@pytest.mark.parametrize(
    "key, operator, stored",
    [
        ("age", "gte", 16),
        ("age", "lte", 100),
        ("age", "gte", {"years_before": 3}),
        ("age", "answered", None),
        ("offered_salary", "gte", 50700.5),
        ("university_rank", "in", ["top100", "top200"]),
        ("citizenship", "not_in", ["DE", "FR"]),
        ("proof_of_funds", "eq", True),
    ],
)
def test_a_value_that_reads_is_not_reported(key, operator, stored):
    gate(RouteFactory(), {"value": stored}, key=key, operator=operator)
    assert problems() == []


def test_an_unclear_value_may_be_blank_but_needs_a_note():
    route = RouteFactory(slug="unclear")
    gate(route, {"value": None, "certainty": "unclear", "note": "Not published."})
    assert problems() == []
    RequirementValue.objects.update(note=" ")
    assert problems() == [
        "unclear (published), gate 1 (every pathway / age / gte): value from the start to no "
        "end: a value marked unclear needs a note saying what is unclear or what decides."
    ]


def test_an_unknown_operator_or_certainty_is_reported():
    route = RouteFactory(slug="unknown")
    requirement = gate(route, {})
    Requirement.objects.filter(pk=requirement.pk).update(operator="about")
    RequirementValueFactory(requirement=requirement, certainty="maybe", note="?")
    assert problems() == [
        "unknown (published), gate 1 (every pathway / age / about): the operator “about” does "
        "not exist.",
        "unknown (published), gate 1 (every pathway / age / about): value from the start to no "
        "end: the certainty “maybe” does not exist.",
        "unknown (published), gate 1 (every pathway / age / about): the value from the start "
        "to no end and the value from the start to no end are both in force from the start to "
        "no end.",
    ]


def test_a_last_day_before_the_first_is_reported():
    route = RouteFactory(slug="backwards", status=Route.Status.DRAFT)
    gate(route, {"effective_from": D(2026, 1, 1), "effective_until": D(2025, 12, 31)})
    assert problems() == [
        "backwards (draft), gate 1 (every pathway / age / gte): value from 2026-01-01 to "
        "2025-12-31: its last day is before its first."
    ]


# --- (c) conditions name questions that exist, with values that read ---------------------------


def test_an_ask_if_clause_naming_no_question_is_reported():
    QuestionFactory(key="asked", ask_if=[{"question": "nope", "operator": "eq", "value": 1}])
    assert problems() == ["question asked: ask only if, clause 1: No question has the key “nope”."]


def test_an_ask_if_value_that_does_not_read_is_reported_clause_by_clause():
    QuestionFactory(
        key="asked",
        ask_if=[
            {"question": "age", "operator": "gte", "value": 18},
            {"question": "age", "operator": "gte", "value": "abc"},
            {"question": "age", "operator": "soon"},
        ],
    )
    assert problems() == [
        "question asked: ask only if, clause 2: “≥ abc” does not fit “How old are you?”: Enter "
        "the value as a whole number from 16 to 100.",
        "question asked: ask only if, clause 3: Unknown operator “soon”; use one of eq, ne, "
        "lt, lte, gt, gte, in, not_in, answered.",
    ]


def test_a_condition_that_is_not_a_list_is_reported():
    QuestionFactory(key="asked", ask_if={"question": "age"})
    [problem] = problems()
    assert problem.startswith("question asked: ")


def test_a_month_question_that_does_not_exist_is_reported():
    QuestionFactory(key="year_of_it", month_question="month_of_it")
    assert problems() == ["question year_of_it: its month question “month_of_it” does not exist."]


def test_a_show_if_value_that_does_not_read_is_reported_with_the_route():
    route = RouteFactory(slug="shown", status=Route.Status.DRAFT)
    OpenQuestionFactory(
        route=route,
        topic="Age limit",
        show_if=[{"question": "age", "operator": "gte", "value": "abc"}],
    )
    assert problems() == [
        "shown (draft), open question “Age limit”: show only if, clause 1: “≥ abc” does not fit "
        "“How old are you?”: Enter the value as a whole number from 16 to 100."
    ]


# --- (d) two values of a gate in force on the same day -----------------------------------------


def test_two_values_in_force_on_the_same_days_are_reported():
    route = RouteFactory(slug="overlap", status=Route.Status.DRAFT)
    gate(
        route,
        {"effective_from": D(2025, 1, 1), "effective_until": D(2026, 6, 30)},
        {"value": 21, "effective_from": D(2026, 1, 1), "effective_until": D(2026, 12, 31)},
    )
    assert problems() == [
        "overlap (draft), gate 1 (every pathway / age / gte): the value from 2025-01-01 to "
        "2026-06-30 and the value from 2026-01-01 to 2026-12-31 are both in force from "
        "2026-01-01 to 2026-06-30."
    ]


def test_a_value_with_no_last_day_runs_into_the_next():
    route = RouteFactory(slug="open-ended")
    gate(route, {"effective_from": D(2025, 1, 1)}, {"value": 21, "effective_from": D(2026, 1, 1)})
    assert problems() == [
        "open-ended (published), gate 1 (every pathway / age / gte): the value from 2025-01-01 "
        "to no end and the value from 2026-01-01 to no end are both in force from 2026-01-01 "
        "to no end."
    ]


def test_a_value_starting_on_the_last_day_of_another_overlaps_for_that_day():
    route = RouteFactory(slug="one-day")
    gate(
        route,
        {"effective_until": D(2026, 1, 1)},
        {"value": 21, "effective_from": D(2026, 1, 1)},
    )
    assert problems() == [
        "one-day (published), gate 1 (every pathway / age / gte): the value from the start to "
        "2026-01-01 and the value from 2026-01-01 to no end are both in force from 2026-01-01 "
        "to 2026-01-01."
    ]


def test_a_value_starting_the_day_after_the_last_ends_is_no_overlap():
    route = RouteFactory(slug="adjacent")
    gate(
        route,
        {"effective_until": D(2025, 12, 31)},
        {"value": 21, "effective_from": D(2026, 1, 1)},
    )
    assert problems() == []


# --- (e) sources: a page, not a home page, and no newer than the route's check -----------------


@pytest.mark.parametrize(
    "url, problem",
    [
        ("", "the source has no URL."),
        ("https://example.org", "the source URL https://example.org is a site's home page"),
        ("https://example.org/", "the source URL https://example.org/ is a site's home page"),
        ("https://example.org/#fees", "is a site's home page"),
        ("https://example.org/fees", None),
        ("https://example.org/?page=fees", None),
    ],
)
def test_a_source_must_name_a_page(url, problem):
    route = RouteFactory(slug="sourced")
    requirement = gate(route, {"source_url": url})
    KeyFactFactory(route=route, source_url=url)
    OpenQuestionFactory(route=route, topic="Timing", source_url=url)
    found = problems()
    if problem is None:
        assert found == []
        return
    where = [p.split(": ", 1)[0] for p in found]
    assert where == [
        f"sourced (published), gate {requirement.order} (every pathway / age / gte), value "
        "from the start to no end",
        "sourced (published), key fact fees",
        "sourced (published), open question “Timing”",
    ]
    assert all(problem in p for p in found)


def test_a_source_newer_than_the_routes_last_check_is_reported():
    route = RouteFactory(slug="checked", last_verified_on=D(2026, 11, 28))
    gate(route, {"source_as_of": D(2026, 11, 28)})
    KeyFactFactory(route=route, source_as_of=D(2026, 11, 29))
    assert problems() == [
        "checked (published), key fact fees: the source is as of 2026-11-29, after the route "
        "was last verified (2026-11-28)."
    ]


# --- Queries, and the command ------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_routes():
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            problems()
        return len(queries)

    blue_card()
    one = count()
    for n in range(3):
        route = RouteFactory(status=Route.Status.DRAFT if n else Route.Status.PUBLISHED)
        gate(route, {"effective_from": D(2025, 1, 1)}, {"value": 30, "source_url": ""})
        KeyFactFactory(route=route)
        OpenQuestionFactory(route=route)
    assert count() == one == 7  # next steps are read with the routes: one query more


def test_the_command_exits_0_and_says_so_when_nothing_is_wrong():
    out = StringIO()
    call_command("check_catalogue", on="2026-06-01", stdout=out)
    assert out.getvalue() == "The catalogue has no problems (checked on 2026-06-01).\n"


def test_the_command_prints_a_line_a_problem_then_a_summary_and_exits_1():
    route = RouteFactory(slug="ends")
    gate(route, {"effective_from": D(2025, 1, 1), "effective_until": D(2027, 12, 31)})
    OpenQuestionFactory(route=route, topic="Two\nlines", source_url="")
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("check_catalogue", on="2026-06-01", stdout=out)
    assert exited.value.code == 1
    assert out.getvalue().splitlines() == [
        "ends (published), gate 1 (every pathway / age / gte): no value in force from "
        "2028-01-01 to 2028-06-01 (if the rule is not known then, add an unclear value for "
        "those dates).",
        "ends (published), open question “Two lines”: the source has no URL.",
        "Warning: ends (published): it has no next steps, so applicants are not told what to "
        "do next; add two to four in the admin.",
        "2 problems in the catalogue (checked on 2026-06-01).",
    ]


def test_the_command_checks_from_today_by_default(monkeypatch):
    route = RouteFactory(slug="ends")
    gate(route, {"effective_from": D(2025, 1, 1), "effective_until": D(2027, 12, 31)})
    monkeypatch.setattr("django.utils.timezone.localdate", lambda: D(2025, 12, 31))
    out = StringIO()
    call_command("check_catalogue", stdout=out)
    assert "checked on 2025-12-31" in out.getvalue()


def test_a_bad_date_is_a_usage_error():
    with pytest.raises(CommandError) as error:
        call_command("check_catalogue", on="1 June")
    assert error.value.returncode == 2
    assert "YYYY-MM-DD" in str(error.value)


CATALOGUE = """
routes:
- slug: late-source
  country: DE
  name: Late source route
  official_url: https://example.org/late-source
  status: published
  currency: EUR
  last_verified_on: 2026-11-01
  last_verified_by: Fact sheet
  requirements:
  - question: age
    operator: lte
    values:
    - value: 45
      source: {title: Example Gazette, url: 'https://example.org/gazette', as_of: %s}
"""


def test_the_command_process_exits_1_on_a_problem_and_0_once_it_is_fixed(tmp_path):
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'check.sqlite3'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("migrate", "-v0").returncode == 0
    catalogue = tmp_path / "routes.yaml"
    catalogue.write_text(CATALOGUE % "2026-11-02", encoding="utf-8")
    assert run("import_routes", str(catalogue)).returncode == 0
    done = run("check_catalogue", "--on", "2026-06-01")
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "late-source (published), gate 1 (every pathway / age / lte), value from the start to no "
        "end: the source is as of 2026-11-02, after the route was last verified (2026-11-01).",
        "Warning: late-source (published): it has no next steps, so applicants are not told "
        "what to do next; add two to four in the admin.",
        "1 problem in the catalogue (checked on 2026-06-01).",
    ]
    assert done.stderr == ""

    catalogue.write_text(CATALOGUE % "2026-11-01", encoding="utf-8")
    assert run("import_routes", "--replace", str(catalogue)).returncode == 0
    done = run("check_catalogue", "--on", "2026-06-01")
    assert (done.returncode, done.stdout.splitlines()[-1]) == (
        0,
        "The catalogue has no problems (checked on 2026-06-01).",
    )  # a warning (no next steps) is printed but fails nothing


@pytest.mark.parametrize("url", ["", "https://www.gov.uk/", "https://www.gov.uk"])
def test_a_route_without_an_overview_page_is_reported(url):
    route = RouteFactory(slug="overview", official_url=url)
    gate(route, {})
    assert problems() == [
        "overview (published): link its overview page (not empty, not a site's home page)."
    ]
