"""Scenarios as data: run against a rule book, carried in the catalogue, checked by
`manage.py check_scenarios`."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from eligibility.advisers.scenarios import run_scenarios
from eligibility.catalogue import CatalogueError, export_catalogue, import_catalogue
from eligibility.models import RequirementValue, Route, Scenario, ScenarioExpectation
from eligibility.rules import load_rulebook
from tests.factories import RouteFactory, blue_card, h1b
from tests.test_catalogue_io import SMALL

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 6, 1)
BERLIN = {"citizenship": ["IN"], "job_offer_country": "DE", "offered_salary": 55000}


def scenario(name: str = "Berlin offer", answers: object = None, **expected: str) -> Scenario:
    """A scenario on 1 June 2026 expecting `expected` verdicts, e.g. de_blue_card="fits"."""
    made = Scenario.objects.create(name=name, on=ON, answers=BERLIN if answers is None else answers)
    for slug, verdict in expected.items():
        ScenarioExpectation.objects.create(
            scenario=made, route=Route.objects.get(slug=slug.replace("_", "-")), verdict=verdict
        )
    return made


# Running scenarios


def test_a_scenario_whose_route_gives_the_expected_verdict_passes():
    blue_card()
    made = scenario(de_blue_card="fits")
    (run,) = run_scenarios(load_rulebook())
    assert (run.scenario_id, run.scenario_name, run.slug) == (
        made.pk,
        "Berlin offer",
        "de-blue-card",
    )
    assert (run.expected, run.got, run.passed, run.problem) == ("fits", "fits", True, "")
    assert run.reason == "You meet every requirement."


def test_a_wrong_verdict_fails_and_says_what_came_instead_and_why():
    blue_card()
    scenario(answers={**BERLIN, "offered_salary": 40000}, de_blue_card="fits")
    (run,) = run_scenarios(load_rulebook())
    assert (run.got, run.passed) == ("does_not_fit", False)
    assert run.problem == f"expected fits, got does not fit: {run.reason}"
    assert "salary" in run.reason.lower()


@pytest.mark.parametrize(
    ("words", "passes"), [("Offered SALARY", True), ("job offer", False), ("", True)]
)
def test_a_reason_must_contain_the_words_expected_whatever_their_case(words, passes):
    blue_card()
    made = scenario(answers={**BERLIN, "offered_salary": 40000}, de_blue_card="does_not_fit")
    made.expectations.update(reason_contains=words)
    (run,) = run_scenarios(load_rulebook())
    assert run.passed is passes
    if not passes:
        assert run.problem == f"the reason does not contain “job offer”: {run.reason}"


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        (
            {**BERLIN, "colour": "blue"},
            "the answers cannot be read: Unknown question key “colour”.",
        ),
        ({**BERLIN, "offered_salary": "lots"}, "the answers cannot be read: offered_salary: "),
        (["IN"], "the answers cannot be read: The answers must be question keys and answers"),
    ],
)
def test_answers_that_cannot_be_read_fail_every_check_of_the_scenario_without_raising(
    answers, problem
):
    blue_card()
    h1b()
    scenario(answers=answers, de_blue_card="fits", us_h1b="does_not_fit")
    runs = run_scenarios(load_rulebook())
    assert [(r.slug, r.got, r.passed) for r in runs] == [
        ("de-blue-card", None, False),
        ("us-h1b", None, False),
    ]
    assert all(r.problem.startswith(problem) for r in runs), runs[0].problem


def test_a_route_missing_from_the_rules_fails_its_checks():
    blue_card(status=Route.Status.DRAFT)
    scenario(de_blue_card="fits")
    (run,) = run_scenarios(load_rulebook())
    assert (run.got, run.passed) == (None, False)
    assert run.problem == "no published route “de-blue-card” in the rules checked"


def test_a_route_slug_runs_only_that_routes_checks():
    blue_card()
    h1b()
    scenario("One", de_blue_card="fits", us_h1b="does_not_fit")
    scenario("Two", us_h1b="does_not_fit")
    runs = run_scenarios(load_rulebook(), slug="us-h1b")
    assert [(r.scenario_name, r.slug) for r in runs] == [("One", "us-h1b"), ("Two", "us-h1b")]


def test_only_the_scenarios_given_are_run():
    blue_card()
    scenario("One", de_blue_card="fits")
    two = scenario("Two", de_blue_card="fits")
    runs = run_scenarios(load_rulebook(), [two])
    assert [r.scenario_name for r in runs] == ["Two"]


@pytest.mark.parametrize("count", [1, 6])
def test_running_scenarios_takes_two_queries_however_many(django_assert_num_queries, count):
    blue_card()
    h1b()
    for n in range(count):
        scenario(f"Scenario {n}", de_blue_card="fits", us_h1b="does_not_fit")
    book = load_rulebook()
    with django_assert_num_queries(2):
        runs = run_scenarios(book)
    assert len(runs) == 2 * count
    assert all(r.passed for r in runs)


# The catalogue carries them

SCENARIOS = """\
scenarios:
- name: Berlin offer
  'on': 2026-06-01
  answers: {offered_salary: 55000, citizenship: [IN], job_offer_country: DE}
  expect:
    de-blue-card:
      verdict: fits
      checks: the 2026 threshold is met
      reason_contains: every requirement
"""


def test_scenarios_round_trip_through_the_catalogue_answers_in_question_order():
    import_catalogue(SMALL + SCENARIOS)
    first = export_catalogue()
    assert first.endswith(
        "scenarios:\n"
        "- name: Berlin offer\n"
        "  'on': 2026-06-01\n"
        "  answers: {citizenship: [IN], job_offer_country: DE, offered_salary: 55000}\n"
        "  expect:\n"
        "    de-blue-card:\n"
        "      verdict: fits\n"
        "      checks: the 2026 threshold is met\n"
        "      reason_contains: every requirement\n"
    )
    Scenario.objects.all().delete()
    Route.objects.all().delete()
    import_catalogue(first)
    assert export_catalogue() == first


def test_the_export_leaves_out_draft_copies_and_what_scenarios_expect_of_them():
    import_catalogue(SMALL + SCENARIOS)
    before = export_catalogue()
    published = Route.objects.get(slug="de-blue-card")
    copy = RouteFactory(slug="de-blue-card-draft", status=Route.Status.DRAFT, draft_of=published)
    ScenarioExpectation.objects.create(
        scenario=Scenario.objects.create(name="Only the draft", on=ON), route=copy, verdict="fits"
    )
    assert export_catalogue() == before.replace(
        "      reason_contains: every requirement\n",
        "      reason_contains: every requirement\n"
        "- name: Only the draft\n  'on': 2026-06-01\n  answers: {}\n  expect: {}\n",
    )


def test_a_scenario_of_the_same_name_is_kept_as_advisers_edited_it_unless_replaced():
    import_catalogue(SMALL + SCENARIOS)
    ScenarioExpectation.objects.update(verdict="may_fit")
    report = import_catalogue(SMALL + SCENARIOS)
    assert (report.scenarios_skipped, report.scenarios_edited) == (
        ["Berlin offer"],
        ["Berlin offer"],
    )
    assert ScenarioExpectation.objects.get().verdict == "may_fit"
    report = import_catalogue(SMALL + SCENARIOS, replace=True)
    assert report.scenarios_replaced == ["Berlin offer"]
    assert ScenarioExpectation.objects.get().verdict == "fits"
    assert Scenario.objects.count() == 1


def test_replacing_a_route_keeps_what_other_scenarios_expect_of_it():
    import_catalogue(SMALL)
    scenario("An adviser's own", de_blue_card="may_fit")
    import_catalogue(SMALL, replace=True)
    expectation = ScenarioExpectation.objects.get()
    assert (expectation.scenario.name, expectation.verdict) == ("An adviser's own", "may_fit")
    assert expectation.route == Route.objects.get(slug="de-blue-card")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    de-blue-card:", "    de-green-card:"),
            "scenario 1 (Berlin offer), de-green-card: no route has the slug “de-green-card”.",
        ),
        (
            ("verdict: fits", "verdict: fit"),
            "scenario 1 (Berlin offer), de-blue-card: the verdict is one of fits, may_fit, "
            "does_not_fit, not “fit”.",
        ),
        (
            (
                "answers: {offered_salary: 55000, citizenship: [IN], job_offer_country: DE}",
                "answers: [IN]",
            ),
            "scenario 1 (Berlin offer): answers must be question keys and answers.",
        ),
        (("'on': 2026-06-01", "'on': soon"), "scenario 1 (Berlin offer): “soon” is not a date"),
        (("      checks:", "      colour: blue\n      checks:"), "unknown field(s) colour"),
    ],
)
def test_a_bad_scenario_loads_nothing_and_names_the_place(change, message):
    assert SCENARIOS.count(change[0]) == 1, change[0]
    with pytest.raises(CatalogueError) as caught:
        import_catalogue(SMALL + SCENARIOS.replace(*change))
    assert message in str(caught.value)
    assert not Route.objects.exists()
    assert not Scenario.objects.exists()


def test_the_import_command_counts_scenarios(tmp_path):
    path = tmp_path / "routes.yaml"
    path.write_text(SMALL + SCENARIOS, encoding="utf-8")
    out = io.StringIO()
    call_command("import_routes", str(path), stdout=out)
    assert "Loaded 1 route(s), 0 question(s) and 1 scenario(s)." in out.getvalue()
    out = io.StringIO()
    call_command("import_routes", str(path), stdout=out)
    assert (
        "Skipped 1 scenario(s) that already exist (1 the same as in the file, 0 different, "
        "kept as they are)." in out.getvalue()
    )


# manage.py check_scenarios


def check_scenarios(*args: str) -> str:
    out = io.StringIO()
    call_command("check_scenarios", *args, stdout=out)
    return out.getvalue()


def test_check_scenarios_prints_one_line_per_failure_and_exits_with_status_1():
    blue_card()
    h1b()
    scenario("At €55,000", de_blue_card="fits", us_h1b="does_not_fit")
    scenario("At €51,000", answers={**BERLIN, "offered_salary": 51000}, de_blue_card="fits")
    scenario("At €70,000", answers={**BERLIN, "offered_salary": 70000}, de_blue_card="fits")
    RequirementValue.objects.filter(value=50700).update(value=60000)
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("check_scenarios", stdout=out)
    assert caught.value.returncode == 1
    assert str(caught.value) == "2 of 4 checks fail."
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "At €51,000 / de-blue-card",
        "At €55,000 / de-blue-card",
    ]
    assert lines[0].startswith("At €51,000 / de-blue-card: expected fits, got does not fit: ")


def test_check_scenarios_runs_one_routes_checks():
    blue_card()
    h1b()
    scenario(de_blue_card="fits", us_h1b="does_not_fit")
    assert check_scenarios("--route", "us-h1b") == "1 check of 1 scenario: all pass\n"
    with pytest.raises(CommandError, match="No scenario expects a verdict of “uk-hpi”") as caught:
        check_scenarios("--route", "uk-hpi")
    assert caught.value.returncode == 2


def test_every_scenario_of_the_shipped_catalogue_passes(imported_catalogue):
    assert check_scenarios().endswith(" scenarios: all pass\n")
