"""The engine's rules, without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from eligibility import engine
from eligibility.engine import (
    Certainty,
    Clause,
    Operator,
    Outcome,
    RouteOpenQuestion,
    Verdict,
    YearsBefore,
    evaluate_route,
    evaluate_routes,
)
from tests.builders import ON, SOURCE, UNCLEAR, book, route, rule


def outcome_of(requirement: engine.RequirementRule, answers: dict[str, object]) -> Outcome:
    return engine.requirement_outcome(requirement, answers, ON)


@pytest.mark.parametrize(
    ("operator", "value", "answer", "expected"),
    [
        ("eq", 30, 30, Outcome.MET),
        ("eq", 30, 31, Outcome.NOT_MET),
        ("ne", 30, 31, Outcome.MET),
        ("ne", 30, 30, Outcome.NOT_MET),
        ("lt", 30, 29, Outcome.MET),
        ("lt", 30, 30, Outcome.NOT_MET),
        ("lte", 30, 30, Outcome.MET),
        ("lte", 30, 31, Outcome.NOT_MET),
        ("gt", 30, 31, Outcome.MET),
        ("gt", 30, 30, Outcome.NOT_MET),
        ("gte", 30, 30, Outcome.MET),
        ("gte", 30, 29, Outcome.NOT_MET),
        ("in", (29, 30), 30, Outcome.MET),
        ("in", (29, 30), 31, Outcome.NOT_MET),
        ("not_in", (29, 30), 31, Outcome.MET),
        ("not_in", (29, 30), 30, Outcome.NOT_MET),
        ("answered", None, 30, Outcome.MET),
    ],
)
def test_every_operator_on_a_whole_number(operator, value, answer, expected):
    assert outcome_of(rule("age", operator, value), {"age": answer}) is expected


def test_ordinal_questions_compare_by_the_order_of_their_choices():
    at_least_bachelor = rule("degree", "gte", "bachelor")
    assert outcome_of(at_least_bachelor, {"degree": "master"}) is Outcome.MET
    assert outcome_of(at_least_bachelor, {"degree": "bachelor"}) is Outcome.MET
    assert outcome_of(at_least_bachelor, {"degree": "none"}) is Outcome.NOT_MET


def test_money_compares_decimals_exactly():
    reduced = rule("salary", "gte", Decimal("45934.20"))
    assert outcome_of(reduced, {"salary": Decimal("45934.20")}) is Outcome.MET
    assert outcome_of(reduced, {"salary": Decimal("45934.19")}) is Outcome.NOT_MET


def test_choice_and_country_questions_match_lists():
    top_200 = rule("rank", "in", ("top100", "top200"))
    assert outcome_of(top_200, {"rank": "top200"}) is Outcome.MET
    assert outcome_of(top_200, {"rank": "other"}) is Outcome.NOT_MET
    assert outcome_of(rule("offer", "eq", "DE"), {"offer": "none"}) is Outcome.NOT_MET


def test_missing_answer_and_dont_know_are_both_unknown():
    limit = rule("age", "lte", 55)
    assert outcome_of(limit, {}) is Outcome.UNKNOWN
    assert outcome_of(limit, {"age": None}) is Outcome.UNKNOWN
    assert outcome_of(rule("age", "answered"), {"age": None}) is Outcome.UNKNOWN


def test_an_unclear_rule_never_yields_met_even_when_answered():
    vague_age_limit = rule("age", "answered", certainty=UNCLEAR, met_text="An age limit applies")
    assert outcome_of(vague_age_limit, {"age": 25}) is Outcome.UNKNOWN
    result = evaluate_routes(book(route(vague_age_limit)), {"age": 25}, ON)[0]
    assert result.verdict is Verdict.MAY_FIT
    assert [o.kind for o in result.open_questions] == [engine.OpenQuestionKind.UNCLEAR_RULE]
    assert result.open_questions[0].text == "An age limit applies"


def test_years_before_is_relative_to_the_evaluation_date():
    recent = rule("age", "gte", YearsBefore(3))  # stands in for a graduation year
    assert engine.requirement_outcome(recent, {"age": 2023}, dt.date(2026, 6, 1)) is Outcome.MET
    assert engine.requirement_outcome(recent, {"age": 2023}, dt.date(2027, 6, 1)) is Outcome.NOT_MET


def test_only_requirements_in_force_on_the_evaluation_date_count():
    blue_card = route(
        rule(
            "salary",
            "gte",
            48300,
            effective_from=dt.date(2025, 1, 1),
            effective_until=dt.date(2025, 12, 31),
        ),
        rule("salary", "gte", 50700, effective_from=dt.date(2026, 1, 1)),
    )
    answers = {"salary": Decimal(49000)}
    assert evaluate_route(blue_card, answers, dt.date(2025, 6, 1)).verdict is Verdict.FITS
    assert evaluate_route(blue_card, answers, dt.date(2025, 12, 31)).verdict is Verdict.FITS
    assert evaluate_route(blue_card, answers, dt.date(2026, 1, 1)).verdict is Verdict.DOES_NOT_FIT


def test_a_route_fits_when_every_requirement_of_one_pathway_is_met():
    blue_card = route(
        rule("offer", "eq", "DE"),
        rule("salary", "gte", 50700, pathway="Standard"),
        rule("salary", "gte", 45934, pathway="Shortage occupation"),
        rule("degree", "gte", "bachelor", pathway="Shortage occupation"),
    )
    shortage = {"offer": "DE", "salary": Decimal(46000), "degree": "master"}
    result = evaluate_route(blue_card, shortage, ON)
    assert result.verdict is Verdict.FITS
    assert result.reason == "You meet every requirement (Shortage occupation)."


def test_a_common_requirement_not_met_rules_out_every_pathway():
    blue_card = route(
        rule("offer", "eq", "DE", not_met_text="You need a job offer in Germany."),
        rule("salary", "gte", 50700, pathway="Standard"),
        rule("salary", "gte", 45934, pathway="Reduced"),
    )
    result = evaluate_route(blue_card, {"offer": "none", "salary": Decimal(90000)}, ON)
    assert result.verdict is Verdict.DOES_NOT_FIT
    assert result.reason == "You need a job offer in Germany."


def test_one_unknown_pathway_makes_a_route_may_fit_when_no_other_pathway_is_met():
    card = route(
        rule("salary", "gte", 50700, pathway="Standard"),
        rule("degree", "gte", "bachelor", pathway="Graduate"),
    )
    result = evaluate_route(card, {"salary": Decimal(40000)}, ON)
    assert result.verdict is Verdict.MAY_FIT
    assert result.reason == "Depends on your answer to: Degree?"


def test_missing_salary_makes_blue_card_may_fit_and_asks_for_it():
    card = route(rule("offer", "eq", "DE"), rule("salary", "gte", 50700))
    result = evaluate_routes(book(card), {"offer": "DE"}, ON)[0]
    assert result.verdict is Verdict.MAY_FIT
    assert [(o.kind, o.question_key) for o in result.open_questions] == [
        (engine.OpenQuestionKind.UNANSWERED, "salary")
    ]


def test_dont_know_is_reported_as_such():
    card = route(rule("salary", "gte", 50700))
    result = evaluate_routes(book(card), {"salary": None}, ON)[0]
    assert result.open_questions[0].kind is engine.OpenQuestionKind.DONT_KNOW


class TestPoints:
    def card(self, **fields: object) -> engine.RouteRules:
        return route(
            rule("degree", "gte", "bachelor"),
            rule("german", "gte", "A2", points=1, points_group="German"),
            rule("german", "gte", "B1", points=2, points_group="German"),
            rule("german", "gte", "B2", points=3, points_group="German"),
            rule("age", "lt", 35, points=2, points_group="Age"),
            rule("age", "lt", 40, points=1, points_group="Age"),
            rule("funds", "eq", True, points=1, points_group="Funds"),
            points_needed=6,
            **fields,
        )

    def test_only_the_best_item_of_a_group_counts_and_groups_add_up(self):
        answers = {"degree": "master", "german": "C1", "age": 30, "funds": True}
        result = evaluate_route(self.card(), answers, ON)
        assert (result.points.earned, result.points.needed) == (6, 6)
        assert result.verdict is Verdict.FITS

    def test_exactly_the_points_needed_fits_and_one_less_does_not(self):
        five = {"degree": "master", "german": "B2", "age": 37, "funds": True}
        result = evaluate_route(self.card(), five, ON)
        assert result.points.earned == 5
        assert result.verdict is Verdict.DOES_NOT_FIT
        assert result.gaps[0] == "1 point short (5 of 6 needed)."

    def test_gap_hints_say_what_would_add_points(self):
        answers = {"degree": "master", "german": "B1", "age": 37, "funds": True}
        result = evaluate_route(self.card(), answers, ON)
        assert result.points.earned == 4
        assert "German level ≥ B2 would add 1." in result.gaps
        assert "Age < 35 would add 1." in result.gaps

    def test_unanswered_items_keep_enough_points_possible(self):
        result = evaluate_route(self.card(), {"degree": "master", "german": "B2"}, ON)
        assert (result.points.earned, result.points.possible) == (3, 6)
        assert result.verdict is Verdict.MAY_FIT

    def test_a_partly_published_table_never_rules_out_on_points(self):
        low = {"degree": "master", "german": "none", "age": 50, "funds": False}
        assert evaluate_route(self.card(), low, ON).verdict is Verdict.DOES_NOT_FIT
        partial = self.card(points_table_partial=True)
        assert evaluate_route(partial, low, ON).verdict is Verdict.MAY_FIT

    def test_points_apply_only_to_the_pathway_that_has_them(self):
        card = route(
            rule("funds", "eq", True),
            rule("degree", "eq", "master", pathway="Full recognition"),
            rule("german", "gte", "B1", points=2, points_group="German", pathway="Points"),
            points_needed=6,
        )
        recognised = {"funds": True, "degree": "master", "german": "none"}
        assert evaluate_route(card, recognised, ON).verdict is Verdict.FITS
        points_only = {"funds": True, "degree": "bachelor", "german": "C2"}
        assert evaluate_route(card, points_only, ON).verdict is Verdict.DOES_NOT_FIT


def test_gap_hint_names_the_amount_below_the_threshold_of_that_year():
    card = route(rule("salary", "gte", 50700, effective_from=dt.date(2026, 1, 1)))
    result = evaluate_route(card, {"salary": Decimal(45000)}, ON)
    assert result.gaps == ("€5,700 below the 2026 threshold of €50,700.",)


def test_gap_hint_for_a_recent_graduation_names_the_year():
    recent = route(rule("age", "gte", YearsBefore(5)))  # stands in for a graduation year
    result = evaluate_route(recent, {"age": 2016}, ON)
    assert result.gaps == ("Needs 2021 or later; you have 2016.",)


def test_no_salary_gap_is_hinted_when_the_job_offer_is_elsewhere():
    card = route(rule("offer", "eq", "JP"), rule("salary", "gte", 3_000_000), currency="JPY")
    result = evaluate_route(card, {"offer": "DE", "salary": Decimal(48000)}, ON)
    assert result.verdict is Verdict.DOES_NOT_FIT
    assert result.gaps == ()


def test_gap_hint_for_an_upper_limit_and_for_a_level():
    result = evaluate_route(route(rule("age", "lte", 55)), {"age": 57}, ON)
    assert result.gaps == ("2 above the limit of 55.",)
    result = evaluate_route(route(rule("german", "gte", "B1")), {"german": "A2"}, ON)
    assert result.gaps == ("Needs B1 or higher; you have A2.",)


def test_route_open_questions_show_unless_their_condition_is_ruled_out():
    fee = RouteOpenQuestion(
        "The $100,000 payment",
        "Applies to applicants outside the US.",
        SOURCE,
        show_if=(Clause("offer", Operator.NE, "US"),),
    )
    h1b = route(rule("offer", "eq", "US"), open_questions=(fee,))
    rules = book(h1b)
    texts = lambda answers: [o.text for o in evaluate_routes(rules, answers, ON)[0].open_questions]  # noqa: E731
    assert "Applies to applicants outside the US." in texts({})
    assert "Applies to applicants outside the US." in texts({"offer": "IN"})
    assert "Applies to applicants outside the US." not in texts({"offer": "US"})


def test_unclear_rules_of_ruled_out_pathways_raise_no_open_question():
    card = route(
        rule("degree", "gte", "bachelor", pathway="Graduates"),
        rule(
            "rank",
            "answered",
            certainty=Certainty.UNCLEAR,
            pathway="Graduates",
            met_text="The list of well-known institutions is unpublished.",
        ),
        rule("funds", "eq", True, pathway="Researchers"),
    )
    result = evaluate_routes(book(card), {"degree": "none", "funds": True}, ON)[0]
    assert result.verdict is Verdict.FITS
    assert result.open_questions == ()


def test_a_question_that_cannot_change_any_verdict_does_not_matter():
    card = route(rule("offer", "eq", "DE"), rule("salary", "gte", 50700))
    rules = book(card)
    assert engine.questions_that_matter(rules, {}, ON) == {"offer", "salary"}
    assert engine.questions_that_matter(rules, {"offer": "none"}, ON) == set()


def test_questions_that_decide_a_route_only_together_still_matter():
    card = route(
        rule("degree", "gte", "bachelor", pathway="Graduates"),
        rule("german", "gte", "B1", pathway="Graduates"),
        rule("funds", "eq", True, pathway="Savers"),
    )
    assert engine.questions_that_matter(book(card), {}, ON) == {"degree", "german", "funds"}
    assert engine.questions_that_matter(book(card), {"funds": True}, ON) == set()


def test_ask_only_if_asks_when_the_condition_holds_not_when_it_might():
    question = engine.QuestionRule(
        "salary", "Salary?", engine.Kind.MONEY, ask_if=(Clause("offer", Operator.NE, "none"),)
    )
    rules = book()
    assert not engine.should_ask(question, rules, {}, ON)
    assert not engine.should_ask(question, rules, {"offer": "none"}, ON)
    assert engine.should_ask(question, rules, {"offer": "DE"}, ON)


def test_review_is_overdue_after_the_interval():
    card = route(last_verified_on=dt.date(2026, 1, 1), review_interval_days=90)
    assert not card.is_overdue(dt.date(2026, 4, 1))
    assert card.is_overdue(dt.date(2026, 4, 2))


def test_money_is_formatted_with_the_currency():
    assert engine.format_money(Decimal("45934.20"), "EUR") == "€45,934.20"
    assert engine.format_money(149865000, "KRW") == "₩149,865,000"
    assert engine.format_money(1000, "CHF") == "1,000 CHF"
