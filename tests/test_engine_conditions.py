"""Gates that apply only to some applicants, values that close a pathway or stand a gate aside
on some dates, points tables that become partial on a date, and open questions split into what
could still decide a route and the other things to know, each said once."""

from __future__ import annotations

import datetime as dt

import pytest

from eligibility import engine, report, wording
from eligibility import results as results_page
from eligibility.engine import Certainty, Outcome, RouteOpenQuestion, Verdict
from tests.builders import CHANCE, ON, SOURCE, UNCLEAR, book, route, rule, value

CITIZEN = {"citizenship": ["IN"]}
ABROAD = rule("funds", "eq", True)  # "applies only if" clause: the applicant is abroad


def payment(**fields: object) -> engine.RequirementRule:
    """The employer must pay (employer_exempt = yes), but only for applicants abroad."""
    return rule("employer_exempt", "eq", True, applies_if=(ABROAD,), **fields)


def check(gate: engine.RequirementRule, **answers: object) -> engine.GateCheck:
    return engine.check_gate(gate, answers, ON)


# --- applies only if ------------------------------------------------------------------------


def test_a_gate_whose_condition_does_not_hold_stands_aside_whatever_its_own_answer():
    for paid in (True, False, None):
        result = check(payment(), funds=False, employer_exempt=paid)
        assert (result.outcome, result.applies) == (Outcome.MET, False)


def test_a_gate_whose_condition_holds_is_checked_as_usual():
    assert check(payment(), funds=True, employer_exempt=True).outcome is Outcome.MET
    assert check(payment(), funds=True, employer_exempt=False).outcome is Outcome.NOT_MET


def test_an_unknown_condition_never_passes_a_gate_that_would_fail():
    result = check(payment(), employer_exempt=False)
    assert result.outcome is Outcome.UNKNOWN
    assert result.awaits == "funds"


def test_an_unknown_condition_does_not_matter_when_the_gate_holds_anyway():
    assert check(payment(), employer_exempt=True).outcome is Outcome.MET


def test_a_scoring_item_whose_condition_does_not_hold_earns_nothing():
    item = rule(
        "salary",
        "gte",
        70000,
        points=25,
        points_group="salary",
        applies_if=(rule("age", "lt", 40),),
    )
    assert check(item, age=40, salary=80000).outcome is Outcome.NOT_MET
    assert check(item, age=39, salary=80000).outcome is Outcome.MET
    assert check(item, salary=80000).outcome is Outcome.UNKNOWN
    assert check(item, salary=60000).outcome is Outcome.NOT_MET  # fails anyway


def test_an_unclear_item_only_at_one_age_leaves_that_age_unknown_and_no_other():
    """The Opportunity Card's disputed boundary: 2 points under 35, and at exactly 35 unclear."""
    under = rule("age", "lt", 35, points=2, points_group="age")
    at = rule(
        "age",
        "answered",
        None,
        points=2,
        points_group="age",
        certainty=UNCLEAR,
        note="Sources differ on whether 35 itself counts.",
        applies_if=(rule("age", "in", (35,)),),
    )
    funds = rule("funds", "eq", True, points=4, points_group="funds")
    r = route(under, at, funds, points_needed=6)
    verdicts = {
        age: engine.evaluate_route(r, {**CITIZEN, "age": age, "funds": True}, ON).verdict
        for age in (34, 35, 36)
    }
    assert verdicts == {34: Verdict.FITS, 35: Verdict.MAY_FIT, 36: Verdict.DOES_NOT_FIT}


def test_a_route_that_waits_on_a_condition_asks_that_question_and_names_it():
    r = route(payment())
    answers = {**CITIZEN, "employer_exempt": False}
    assert engine.deciding_questions(r, answers, ON) == ["funds"]
    result = engine.evaluate_route(r, answers, ON)
    assert wording.reason(result) == "Your answer to “Funds?” decides it."


def test_the_rule_says_whom_it_applies_to_and_a_row_says_when_it_does_not():
    gate = payment()
    text = wording.rule_text(gate, gate.values[0], "USD", ON)
    assert text == (
        "If your answer to “Funds?” is yes: your answer to “Cap-exempt employer?” must be yes"
    )
    result = engine.evaluate_route(route(gate), {**CITIZEN, "funds": False}, ON)
    row = results_page.requirement_row(result.requirements[1], "USD")
    assert (row.outcome_label, row.outcome) == ("Does not apply", "not_applying")
    assert wording.explanation(result.requirements[1], "USD").startswith("Does not apply to you:")


def test_a_condition_on_one_number_reads_as_a_sentence():
    gate = rule("funds", "eq", True, applies_if=(rule("age", "eq", 35),))
    assert wording.rule_text(gate, gate.values[0], "EUR", ON).startswith("If age is 35:")


# --- values that close a pathway or stand a gate aside ----------------------------------------

START = dt.date(2026, 8, 24)


def new_pathway() -> engine.RequirementRule:
    return rule(
        "age",
        "lte",
        None,
        pathway="New pathway",
        values=(
            value(
                None,
                certainty=Certainty.NOT_AVAILABLE,
                effective_until=START - dt.timedelta(1),
                note="Opens on 24 August 2026.",
            ),
            value(55, effective_from=START),
        ),
    )


@pytest.mark.parametrize(
    ("on", "expected"),
    [(START - dt.timedelta(1), Verdict.DOES_NOT_FIT), (START, Verdict.FITS)],
)
def test_a_pathway_not_yet_available_fails_the_day_before_and_opens_on_its_day(on, expected):
    result = engine.evaluate_route(route(new_pathway()), {**CITIZEN, "age": 30}, on)
    assert result.verdict is expected


def test_a_pathway_not_yet_available_fails_even_unanswered_and_says_why():
    result = engine.evaluate_route(route(new_pathway()), CITIZEN, START - dt.timedelta(1))
    assert result.verdict is Verdict.DOES_NOT_FIT
    assert wording.reason(result) == "Not available: Opens on 24 August 2026."


PROCLAMATION = dt.date(2025, 9, 21)


def dated_payment() -> engine.RequirementRule:
    return rule(
        "employer_exempt",
        "eq",
        None,
        values=(
            value(
                None,
                certainty=Certainty.NOT_REQUIRED,
                effective_until=PROCLAMATION - dt.timedelta(1),
                note="No payment before 21 September 2025.",
            ),
            value(True, effective_from=PROCLAMATION),
        ),
    )


def test_a_rule_not_yet_in_force_stands_aside_the_day_before_and_applies_on_its_day():
    answers = {**CITIZEN, "employer_exempt": False}
    before = engine.evaluate_route(route(dated_payment()), answers, PROCLAMATION - dt.timedelta(1))
    on_the_day = engine.evaluate_route(route(dated_payment()), answers, PROCLAMATION)
    assert before.verdict is Verdict.FITS
    assert before.requirements[1].check.applies is False
    assert on_the_day.verdict is Verdict.DOES_NOT_FIT


def test_a_scoring_item_not_yet_in_force_earns_nothing():
    item = rule(
        "funds",
        "eq",
        None,
        points=6,
        points_group="funds",
        values=(
            value(
                None,
                certainty=Certainty.NOT_REQUIRED,
                effective_until=START - dt.timedelta(1),
                note="Not yet.",
            ),
            value(True, effective_from=START),
        ),
    )
    r = route(item, points_needed=6)
    answers = {**CITIZEN, "funds": True}
    assert (
        engine.evaluate_route(r, answers, START - dt.timedelta(1)).verdict is Verdict.DOES_NOT_FIT
    )
    assert engine.evaluate_route(r, answers, START).verdict is Verdict.FITS


# --- a points table that becomes partial on a date -------------------------------------------


@pytest.mark.parametrize(
    ("on", "expected"),
    [(START - dt.timedelta(1), Verdict.DOES_NOT_FIT), (START, Verdict.MAY_FIT)],
)
def test_a_low_total_fails_until_the_table_becomes_partial_then_is_unknown(on, expected):
    item = rule("funds", "eq", True, points=5, points_group="funds")
    r = route(item, points_needed=6, points_table_partial_from=START)
    assert engine.evaluate_route(r, {**CITIZEN, "funds": True}, on).verdict is expected


# --- open questions: what could still decide, and the other things to know --------------------

FEES = RouteOpenQuestion("Fees", "Fees are not published.", SOURCE)


def test_a_route_that_may_fit_lists_what_could_decide_it_before_the_things_to_know():
    r = route(
        rule("age", "lte", 45),
        rule("salary", "gte", 1, certainty=CHANCE, note="A lottery decides."),
        open_questions=(FEES,),
    )
    results = engine.evaluate_routes(book(r), {**CITIZEN, "salary": 10}, ON)
    items = results[0].open_questions
    assert [(o.kind.value, o.decides) for o in items] == [
        ("unanswered", True),
        ("chance", True),
        ("route", False),
    ]


def test_a_route_that_does_not_fit_shows_only_the_things_to_know():
    r = route(
        rule("age", "lte", 45),
        rule("salary", "gte", 1, certainty=UNCLEAR, note="Not published."),
        open_questions=(FEES,),
    )
    results = engine.evaluate_routes(book(r), {**CITIZEN, "age": 50}, ON)
    assert results[0].verdict is Verdict.DOES_NOT_FIT
    assert [o.text for o in results[0].open_questions] == ["Fees are not published."]


def test_nothing_is_said_twice():
    note = "No list of well-known institutions has been published."
    r = route(
        rule("rank", "answered", None, certainty=UNCLEAR, note=note, pathway="Graduate"),
        rule("rank", "answered", None, certainty=UNCLEAR, note=note, pathway="Researcher"),
        rule(
            "salary",
            "gte",
            1,
            values=(value(1, effective_until=dt.date(2025, 12, 31)),),
            pathway="Graduate",
        ),
        rule(
            "salary",
            "gte",
            2,
            values=(value(2, effective_until=dt.date(2025, 12, 31)),),
            pathway="Researcher",
        ),
        open_questions=(RouteOpenQuestion("Institutions", f"  {note.upper()} ", SOURCE), FEES),
    )
    items = engine.evaluate_routes(book(r), CITIZEN, ON)[0].open_questions
    texts = [wording.open_question_text(o, book(r)) for o in items]
    assert texts == [
        note,
        "No 2026 figure has been published yet for: Offered salary.",
        "Fees are not published.",
    ]


def test_the_results_page_groups_them_under_two_headings():
    r = route(
        rule("salary", "gte", 1, certainty=CHANCE, note="A lottery decides."),
        open_questions=(FEES,),
    )
    the_book = book(r)
    result = engine.evaluate_routes(the_book, {**CITIZEN, "salary": 10}, ON)[0]
    section = results_page.route_section(result, ON, the_book)
    assert [o.text for o in section.deciding] == ["A lottery decides."]
    assert [o.text for o in section.to_know] == ["Fees are not published."]
    data = report.as_json((result,), the_book, ON)
    assert [o["decides"] for o in data["routes"][0]["open_questions"]] == [True, False]


def test_a_name_starting_with_an_acronym_keeps_its_capitals_inside_a_sentence():
    level = engine.QuestionRule(
        "level", "Wage level?", engine.Kind.INTEGER, short_label="US wage level"
    )
    gate = engine.RequirementRule(
        1, level, engine.Operator.GTE, (value(2, certainty=CHANCE, note="Odds."),)
    )
    assert wording.rule_text(gate, gate.values[0], "USD", ON).startswith(
        "If US wage level is at least 2,"
    )


def test_a_chance_gate_that_does_not_concern_the_applicant_does_not_apply_rather_than_is_met():
    lottery = rule("employer_exempt", "eq", False, certainty=CHANCE, note="A lottery decides.")
    result = check(lottery, employer_exempt=True)
    assert (result.outcome, result.applies) == (Outcome.MET, False)
    assert check(lottery, employer_exempt=False).why is engine.Unknown.CHANCE
