"""The engine's rules, without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from eligibility import engine, wording
from eligibility.engine import (
    Certainty,
    Clause,
    Operator,
    Outcome,
    RouteOpenQuestion,
    Verdict,
    YearsBefore,
)
from tests.builders import CHANCE, ON, SOURCE, UNCLEAR, book, route, rule, value

FOREIGNER = {"citizenship": ("IN",)}  # not a citizen of the test routes' country (DE)


def evaluate_route(card, answers, on=ON):
    """An applicant who said they are not a citizen of the destination."""
    return engine.evaluate_route(card, {**FOREIGNER, **answers}, on)


def evaluate_routes(rules, answers, on=ON):
    return engine.evaluate_routes(rules, {**FOREIGNER, **answers}, on)


def reason(result):
    return wording.reason(result)


def gaps(result):
    return tuple(wording.gap_lines(result))


def texts(result, rules):
    return [wording.open_question_text(o, rules, "EUR") for o in result.open_questions]


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
    vague_age_limit = rule("age", "answered", certainty=UNCLEAR, note="An age limit applies")
    assert outcome_of(vague_age_limit, {"age": 25}) is Outcome.UNKNOWN
    rules = book(route(vague_age_limit))
    result = evaluate_routes(rules, {"age": 25}, ON)[0]
    assert result.verdict is Verdict.MAY_FIT
    assert [o.kind for o in result.open_questions] == [engine.OpenQuestionKind.UNCLEAR_RULE]
    assert texts(result, rules) == ["An age limit applies"]


def test_the_value_in_force_on_the_evaluation_date_is_the_one_compared():
    blue_card = route(
        rule(
            "salary",
            "gte",
            values=(
                value(
                    48300, effective_from=dt.date(2025, 1, 1), effective_until=dt.date(2025, 12, 31)
                ),
                value(50700, effective_from=dt.date(2026, 1, 1)),
            ),
        )
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
    assert reason(result) == "You meet every requirement (Shortage occupation)."


def test_a_common_requirement_not_met_rules_out_every_pathway():
    blue_card = route(
        rule("offer", "eq", "DE"),
        rule("salary", "gte", 50700, pathway="Standard"),
        rule("salary", "gte", 45934, pathway="Reduced"),
    )
    result = evaluate_route(blue_card, {"offer": "none", "salary": Decimal(90000)}, ON)
    assert result.verdict is Verdict.DOES_NOT_FIT
    assert reason(result) == "Not met: Offer? must be Germany; you answered No offer."


def test_one_unknown_pathway_makes_a_route_may_fit_when_no_other_pathway_is_met():
    card = route(
        rule("salary", "gte", 50700, pathway="Standard"),
        rule("degree", "gte", "bachelor", pathway="Graduate"),
    )
    result = evaluate_route(card, {"salary": Decimal(40000)}, ON)
    assert result.verdict is Verdict.MAY_FIT
    assert reason(result) == "Your answer to “Degree?” decides it."


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
        assert gaps(result)[0] == "1 point short (5 of 6 needed)."

    def test_gap_hints_say_what_would_add_points(self):
        answers = {"degree": "master", "german": "B1", "age": 37, "funds": True}
        result = evaluate_route(self.card(), answers, ON)
        assert result.points.earned == 4
        assert "German level must be B2 or higher would add 1 point." in gaps(result)
        assert "Age must be under 35 would add 1 point." in gaps(result)

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


def test_gap_hint_names_the_amount_short_of_the_threshold_of_that_year():
    card = route(
        rule(
            "salary",
            "gte",
            50700,
            effective_from=dt.date(2026, 1, 1),
            effective_until=dt.date(2026, 12, 31),
        )
    )
    result = evaluate_route(card, {"salary": Decimal(45000)}, ON)
    assert result.gaps[0].gap == engine.Gap(Decimal(5700), "EUR")
    assert gaps(result) == ("€5,700 short of €50,700 (2026 figure).",)


def test_no_salary_gap_is_hinted_when_the_job_offer_is_elsewhere():
    card = route(rule("offer", "eq", "JP"), rule("salary", "gte", 3_000_000), currency="JPY")
    result = evaluate_route(card, {"offer": "DE", "salary": Decimal(48000)}, ON)
    assert result.verdict is Verdict.DOES_NOT_FIT
    assert gaps(result) == ()


def test_gap_hint_for_an_upper_limit_has_no_gap_for_a_level():
    result = evaluate_route(route(rule("age", "lte", 55)), {"age": 57}, ON)
    assert gaps(result) == ("2 over 55.",)
    result = evaluate_route(route(rule("german", "gte", "B1")), {"german": "A2"}, ON)
    assert reason(result) == "Not met: German level must be B1 or higher; you answered A2."


def test_route_open_questions_show_unless_their_condition_is_ruled_out():
    fee = RouteOpenQuestion(
        "The $100,000 payment",
        "Applies to applicants outside the US.",
        SOURCE,
        show_if=(Clause("offer", Operator.NE, "US"),),
    )
    h1b = route(rule("offer", "eq", "US"), open_questions=(fee,), country="US")
    rules = book(h1b)

    def shown(answers):
        return texts(evaluate_routes(rules, answers, ON)[0], rules)

    assert "Applies to applicants outside the US." in shown({})
    assert "Applies to applicants outside the US." in shown({"offer": "IN"})
    assert "Applies to applicants outside the US." not in shown({"offer": "US"})


def test_unclear_rules_of_ruled_out_pathways_raise_no_open_question():
    card = route(
        rule("degree", "gte", "bachelor", pathway="Graduates"),
        rule(
            "rank",
            "answered",
            certainty=Certainty.UNCLEAR,
            pathway="Graduates",
            note="The list of well-known institutions is unpublished.",
        ),
        rule("funds", "eq", True, pathway="Researchers"),
    )
    result = evaluate_routes(book(card), {"degree": "none", "funds": True}, ON)[0]
    assert result.verdict is Verdict.FITS
    assert result.open_questions == ()


def test_a_question_that_cannot_change_any_verdict_does_not_matter():
    card = route(rule("offer", "eq", "DE"), rule("salary", "gte", 50700))
    rules = book(card)
    assert engine.questions_that_matter(rules, FOREIGNER, ON) == {"offer", "salary"}
    assert engine.questions_that_matter(rules, {**FOREIGNER, "offer": "none"}, ON) == set()


def test_questions_that_decide_a_route_only_together_still_matter():
    card = route(
        rule("degree", "gte", "bachelor", pathway="Graduates"),
        rule("german", "gte", "B1", pathway="Graduates"),
        rule("funds", "eq", True, pathway="Savers"),
    )
    assert engine.questions_that_matter(book(card), FOREIGNER, ON) == {"degree", "german", "funds"}
    assert engine.questions_that_matter(book(card), {**FOREIGNER, "funds": True}, ON) == set()


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
    assert wording.format_money(Decimal("45934.20"), "EUR") == "€45,934.20"
    assert wording.format_money(149865000, "KRW") == "₩149,865,000"
    assert wording.format_money(1000, "CHF") == "1,000 CHF"


# ---------------------------------------------------------------------------------------------
# Issue 9: a verdict can be wrong only loudly. Each class below was a confident wrong answer.


def _salary_until_2027() -> engine.RouteRules:
    """The Blue Card salary gate whose 2027 figure ends on 31 Dec 2027, with nothing after."""
    return route(
        rule("offer", "eq", "DE"),
        rule(
            "salary",
            "gte",
            values=(
                value(
                    50700, effective_from=dt.date(2026, 1, 1), effective_until=dt.date(2026, 12, 31)
                ),
                value(
                    52000, effective_from=dt.date(2027, 1, 1), effective_until=dt.date(2027, 12, 31)
                ),
            ),
        ),
    )


class TestRulesNeverVanish:
    def test_a_salary_far_below_any_threshold_does_not_fit_on_the_last_covered_day(self):
        result = evaluate_route(
            _salary_until_2027(), {"offer": "DE", "salary": Decimal(1000)}, dt.date(2027, 12, 31)
        )
        assert result.verdict is Verdict.DOES_NOT_FIT

    def test_after_the_last_value_ends_the_gate_is_unknown_not_absent(self):
        # Before: on 1 Feb 2028 no salary rule was in force, so €1,000 "fitted" the Blue Card.
        rules = book(_salary_until_2027())
        result = evaluate_routes(
            rules, {"offer": "DE", "salary": Decimal(1000)}, dt.date(2028, 2, 1)
        )[0]
        assert result.verdict is Verdict.MAY_FIT
        salary = result.requirements[2]
        assert (salary.outcome, salary.why) == (Outcome.UNKNOWN, engine.Unknown.UNPUBLISHED)
        assert "No 2028 figure has been published yet for: Offered salary." in texts(result, rules)

    def test_the_day_after_the_last_value_ends_is_already_unknown(self):
        card = _salary_until_2027()
        answers = {"offer": "DE", "salary": Decimal(60000)}
        assert evaluate_route(card, answers, dt.date(2027, 12, 31)).verdict is Verdict.FITS
        assert evaluate_route(card, answers, dt.date(2028, 1, 1)).verdict is Verdict.MAY_FIT

    def test_before_the_first_value_starts_the_gate_is_unknown(self):
        card = route(
            rule("salary", "gte", 149865000, effective_from=dt.date(2025, 4, 2)), currency="KRW"
        )
        answers = {"salary": Decimal(200_000_000)}
        assert evaluate_route(card, answers, dt.date(2025, 4, 1)).verdict is Verdict.MAY_FIT
        assert evaluate_route(card, answers, dt.date(2025, 4, 2)).verdict is Verdict.FITS

    def test_an_adviser_can_mark_a_gate_unknown_from_a_date(self):
        card = route(
            rule(
                "salary",
                "gte",
                values=(
                    value(50700, effective_until=dt.date(2026, 12, 31)),
                    value(
                        None,
                        effective_from=dt.date(2027, 1, 1),
                        certainty=UNCLEAR,
                        note="The 2027 figures are not out yet.",
                    ),
                ),
            )
        )
        rules = book(card)
        result = evaluate_routes(rules, {"salary": Decimal(90000)}, dt.date(2027, 1, 1))[0]
        assert result.verdict is Verdict.MAY_FIT
        assert texts(result, rules) == ["The 2027 figures are not out yet."]

    def test_uncovered_dates_are_listed_as_spans(self):
        gate = _salary_until_2027().requirements[1]
        assert engine.uncovered_dates(gate, dt.date(2025, 6, 1), dt.date(2028, 6, 1)) == [
            (dt.date(2025, 6, 1), dt.date(2025, 12, 31)),
            (dt.date(2028, 1, 1), dt.date(2028, 6, 1)),
        ]


class TestRoutesOpenAndClose:
    def card(self) -> engine.RouteRules:
        return route(
            rule("degree", "gte", "bachelor"),
            opens_on=dt.date(2025, 10, 1),
            closes_on=dt.date(2027, 9, 30),
        )

    def test_the_day_before_a_route_opens_it_does_not_fit_and_says_when_it_opens(self):
        result = evaluate_route(self.card(), {"degree": "master"}, dt.date(2025, 9, 30))
        assert result.verdict is Verdict.DOES_NOT_FIT
        assert result.closure is engine.Closure.NOT_YET_OPEN
        assert (
            reason(result)
            == "This route opens on 1 October 2025; it was not open on 30 September 2025."
        )

    def test_on_the_day_it_opens_and_on_its_last_day_it_can_fit(self):
        assert (
            evaluate_route(self.card(), {"degree": "master"}, dt.date(2025, 10, 1)).verdict
            is Verdict.FITS
        )
        assert (
            evaluate_route(self.card(), {"degree": "master"}, dt.date(2027, 9, 30)).verdict
            is Verdict.FITS
        )

    def test_the_day_after_it_closes_it_does_not_fit(self):
        result = evaluate_route(self.card(), {"degree": "master"}, dt.date(2027, 10, 1))
        assert (result.verdict, result.closure) == (Verdict.DOES_NOT_FIT, engine.Closure.CLOSED)
        assert reason(result) == "This route closed on 30 September 2027."

    def test_the_quick_verdict_also_knows_the_route_is_not_open(self):
        rules = book(self.card())
        quick = engine.verdicts(rules, {**FOREIGNER, "degree": "master"}, dt.date(2025, 9, 30))
        assert quick[0].verdict is Verdict.DOES_NOT_FIT


class TestPeriodsAreCountedInDays:
    """ "Graduated within the last 3 years": on 28 Nov 2026 that is on or after 28 Nov 2023."""

    on = dt.date(2026, 11, 28)

    def card(self) -> engine.RouteRules:
        return route(rule("graduation", "gte", YearsBefore(3)))

    def verdict(self, answers):
        return evaluate_route(self.card(), answers, self.on).verdict

    def test_a_january_2023_graduate_is_not_within_three_years_in_november_2026(self):
        # Before: years were compared, so 2023 >= 2026 - 3 "fitted".
        assert self.verdict({"graduation": 2023, "graduation_month": "1"}) is Verdict.DOES_NOT_FIT

    def test_the_year_alone_is_unknown_when_it_straddles_the_cut_off_and_asks_the_month(self):
        rules = book(self.card())
        result = evaluate_routes(rules, {"graduation": 2023}, self.on)[0]
        assert result.verdict is Verdict.MAY_FIT
        assert [o.question_key for o in result.open_questions] == ["graduation_month"]
        assert engine.questions_that_matter(rules, {**FOREIGNER, "graduation": 2023}, self.on) == {
            "graduation_month"
        }

    def test_years_wholly_inside_or_outside_need_no_month(self):
        assert self.verdict({"graduation": 2024}) is Verdict.FITS
        assert self.verdict({"graduation": 2022}) is Verdict.DOES_NOT_FIT
        assert (
            engine.questions_that_matter(
                book(self.card()), {**FOREIGNER, "graduation": 2024}, self.on
            )
            == set()
        )

    def test_the_month_before_the_cut_off_month_fails_and_the_month_after_passes(self):
        assert self.verdict({"graduation": 2023, "graduation_month": "10"}) is Verdict.DOES_NOT_FIT
        assert self.verdict({"graduation": 2023, "graduation_month": "12"}) is Verdict.FITS

    def test_in_the_cut_off_month_itself_the_day_decides(self):
        result = evaluate_route(
            self.card(), {"graduation": 2023, "graduation_month": "11"}, self.on
        )
        assert result.verdict is Verdict.MAY_FIT
        assert result.requirements[1].why is engine.Unknown.DAY_DECIDES

    def test_the_cut_off_moves_with_the_evaluation_date(self):
        answers = {"graduation": 2023, "graduation_month": "12"}
        assert evaluate_route(self.card(), answers, dt.date(2026, 11, 30)).verdict is Verdict.FITS
        assert (
            evaluate_route(self.card(), answers, dt.date(2027, 1, 1)).verdict
            is Verdict.DOES_NOT_FIT
        )

    def test_a_leap_day_cut_off_falls_on_the_28th(self):
        assert YearsBefore(1).cutoff(dt.date(2028, 2, 29)) == dt.date(2027, 2, 28)

    def test_the_rule_reads_as_a_date(self):
        result = evaluate_route(self.card(), {"graduation": 2022}, self.on)
        assert reason(result) == (
            "Not met: Graduation year must be on or after 28 November 2023 "
            "(within the last 3 years); you answered 2022."
        )


class TestCitizenship:
    def card(self, **fields) -> engine.RouteRules:
        return route(rule("degree", "gte", "bachelor"), country="CN", name="K visa", **fields)

    def test_a_citizen_of_the_destination_is_told_they_need_no_visa(self):
        result = engine.evaluate_route(
            self.card(), {"citizenship": ("CN",), "degree": "master"}, ON
        )
        assert result.verdict is Verdict.DOES_NOT_FIT
        assert result.needs_no_visa
        assert (
            reason(result)
            == "You are a citizen of China, so you need no visa to live and work there."
        )

    def test_a_dual_citizen_of_the_destination_needs_no_visa_either(self):
        result = engine.evaluate_route(
            self.card(), {"citizenship": ("IN", "CN"), "degree": "master"}, ON
        )
        assert result.needs_no_visa

    def test_a_citizen_of_another_country_can_fit(self):
        result = engine.evaluate_route(
            self.card(), {"citizenship": ("IN",), "degree": "master"}, ON
        )
        assert result.verdict is Verdict.FITS
        assert not result.needs_no_visa

    def test_unanswered_citizenship_never_fits_and_is_asked(self):
        rules = book(self.card())
        result = engine.evaluate_routes(rules, {"degree": "master"}, ON)[0]
        assert result.verdict is Verdict.MAY_FIT
        assert [o.question_key for o in result.open_questions] == ["citizenship"]
        assert "“Which countries are you a citizen of?”" in reason(result)

    def test_named_nationalities_can_be_excluded_from_a_date(self):
        brake = rule(
            "citizenship",
            "not_in",
            values=(value(("PK", "NG"), effective_from=dt.date(2026, 3, 1)),),
        )
        card = route(
            brake, rule("degree", "gte", "bachelor"), country="GB", opens_on=dt.date(2020, 1, 1)
        )
        answers = {"citizenship": ("PK",), "degree": "master"}
        assert (
            engine.evaluate_route(card, answers, dt.date(2026, 2, 28)).verdict is Verdict.MAY_FIT
        )  # no value yet
        assert (
            engine.evaluate_route(card, answers, dt.date(2026, 3, 1)).verdict
            is Verdict.DOES_NOT_FIT
        )
        other = {"citizenship": ("IN",), "degree": "master"}
        assert engine.evaluate_route(card, other, dt.date(2026, 3, 1)).verdict is Verdict.FITS


class TestChance:
    """A lottery, a quota or an official's approval decides: never "fits" before the event."""

    def h1b(self) -> engine.RouteRules:
        lottery = rule(
            "employer_exempt",
            "eq",
            False,
            certainty=CHANCE,
            note="A lottery decides: USCIS estimates 15.29% to 61.16% by wage level.",
        )
        return route(rule("offer", "eq", "US"), lottery, country="US", currency="USD")

    def test_a_cap_subject_offer_may_fit_and_says_what_decides_it(self):
        rules = book(self.h1b())
        result = evaluate_routes(rules, {"offer": "US", "employer_exempt": False})[0]
        assert result.verdict is Verdict.MAY_FIT
        assert reason(result) == (
            "Decided by a lottery, a quota or an official's approval: A lottery decides: USCIS "
            "estimates 15.29% to 61.16% by wage level."
        )
        assert engine.OpenQuestionKind.CHANCE in [o.kind for o in result.open_questions]

    def test_a_cap_exempt_offer_is_not_subject_to_the_lottery(self):
        result = evaluate_route(self.h1b(), {"offer": "US", "employer_exempt": True})
        assert result.verdict is Verdict.FITS

    def test_whether_the_lottery_applies_is_asked(self):
        assert "employer_exempt" in engine.questions_that_matter(
            book(self.h1b()), {**FOREIGNER, "offer": "US"}, ON
        )

    def test_a_chance_gate_never_rules_a_route_out(self):
        assert (
            engine.check_gate(self.h1b().requirements[1], {"employer_exempt": False}, ON).outcome
            is Outcome.UNKNOWN
        )


class TestWordsFromValues:
    def test_the_reason_states_the_threshold_the_rule_holds(self):
        # Before: an adviser's text said "below €50,700" while the rule said €5,000,000.
        card = route(rule("salary", "gte", 5_000_000, effective_from=dt.date(2026, 1, 1)))
        result = evaluate_route(card, {"salary": Decimal(60000)})
        assert reason(result) == (
            "Not met: Offered salary must be at least €5,000,000 (from 1 January 2026); "
            "you answered €60,000."
        )

    def test_no_symbol_key_or_group_name_reaches_the_applicant(self):
        card = route(
            rule("age", "lt", 35, points=2, points_group="age_points"),
            rule("german", "gte", "B1", points=2, points_group="german_points"),
            rule("salary", "gte", 50700),
            points_needed=6,
        )
        result = evaluate_route(card, {"age": 36, "german": "A1", "salary": Decimal(1)})
        words = " ".join(
            [reason(result), *gaps(result)]
            + [wording.explanation(r, "EUR") for r in result.requirements]
        )
        for forbidden in ("≥", "≤", "<", ">", "_points", "offer", "german "):
            assert forbidden not in words

    def test_the_gap_names_the_nearest_pathway(self):
        card = route(
            rule("offer", "eq", "DE"),
            rule("salary", "gte", 50700, pathway="Standard"),
            rule("salary", "gte", Decimal("45934.20"), pathway="Shortage occupation"),
        )
        result = evaluate_route(card, {"offer": "DE", "salary": Decimal("45934.19")})
        assert gaps(result) == (
            "€0.01 short of €45,934.20, for the pathway “Shortage occupation”.",
        )

    def test_an_adviser_explanation_is_added_after_the_generated_words(self):
        card = route(rule("age", "lte", 55, explanation="On the day you apply."))
        assert (
            reason(evaluate_route(card, {"age": 56}))
            == "Not met: Age must be at most 55; you answered 56. On the day you apply."
        )


class TestStoredDataNeverBreaksAPage:
    def test_a_value_that_cannot_be_compared_makes_the_gate_unknown(self, caplog):
        card = route(rule("age", "lte", "abc"))
        result = evaluate_route(card, {"age": 30})
        assert result.verdict is Verdict.MAY_FIT
        assert result.requirements[1].why is engine.Unknown.BAD_VALUE
        assert "cannot compare" in caplog.text

    def test_a_show_if_value_that_cannot_be_compared_still_shows_the_question(self):
        broken = RouteOpenQuestion(
            "Fee", "Check the fee.", SOURCE, show_if=(Clause("age", Operator.GT, "abc"),)
        )
        rules = book(route(rule("age", "lte", 55), open_questions=(broken,)))
        result = evaluate_routes(rules, {"age": 30})[0]
        assert "Check the fee." in texts(result, rules)

    def test_an_ask_if_value_that_cannot_be_compared_never_asks(self):
        question = engine.QuestionRule(
            "salary", "Salary?", engine.Kind.MONEY, ask_if=(Clause("age", Operator.GT, "abc"),)
        )
        assert not engine.should_ask(question, book(), {"age": 30}, ON)


def test_an_advisers_note_keeps_its_own_punctuation():
    rules = book(route(rule("age", "answered", certainty=UNCLEAR, note="Limits: 35… or 45?")))
    result = evaluate_routes(rules, {"age": 30})[0]
    assert reason(result) == "Unclear rule: Limits: 35… or 45?"
