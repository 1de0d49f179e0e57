"""Stored data never breaks a page, and never decides a verdict it cannot be read for. A rule
value, condition, operator or question that the engine cannot read (written by SQL, an old row,
a bug) makes its gate an unclear rule: the route may fit, with an open question, never fits and
never fails for certain. (Issue 14, row 2.)"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from eligibility import engine, pdf, questionnaire, rules
from eligibility.advisers import drafts
from eligibility.catalogue import export_catalogue
from eligibility.checks import catalogue_problems
from eligibility.engine import Operator, Outcome, Unknown, Verdict, YearsBefore
from eligibility.models import (
    Answer,
    Assessment,
    KeyFact,
    OpenQuestion,
    Question,
    Requirement,
    RequirementValue,
    Route,
    RouteRevision,
)
from tests.builders import ON, QUESTIONS, route, rule
from tests.factories import RequirementFactory, RouteFactory, adviser_user, blue_card

FOREIGNER = {"citizenship": ("IN",)}

# (question, operator, a value of the wrong kind, an answer): the value cannot be read, so
# whatever the answer, the gate is unknown.
UNREADABLE = [
    ("age", "eq", "abc", 30),
    ("age", "ne", "abc", 30),
    ("age", "ne", None, 30),
    ("age", "eq", True, 1),
    ("age", "ne", [30], 30),
    ("age", "gte", Decimal("-Infinity"), 30),
    ("age", "lte", Decimal("Infinity"), 30),
    ("age", "lte", Decimal("NaN"), 30),
    ("age", "gte", {"years_before": 3}, 30),
    ("age", "eq", YearsBefore(3), 2020),
    ("graduation", "ne", YearsBefore(3), 2020),
    ("graduation", "in", YearsBefore(3), 2020),
    ("salary", "ne", "lots", Decimal(50000)),
    ("salary", "not_in", ("lots",), Decimal(50000)),
    ("funds", "eq", 1, True),
    ("funds", "ne", "yes", True),
    ("funds", "in", (1, "x"), True),
    ("funds", "lt", True, False),
    ("rank", "eq", 5, "top100"),
    ("rank", "ne", "top300", "top100"),
    ("rank", "not_in", "top100", "top200"),
    ("rank", "in", (), "top100"),
    ("rank", "not_in", (), "top100"),
    ("rank", "in", [["top100"]], "top100"),
    ("degree", "gte", "doctorate", "master"),
    ("degree", "lt", 2, "master"),
    ("offer", "eq", ["DE"], "DE"),
    ("offer", "ne", "Germany", "DE"),
    ("offer", "not_in", ("de ", 49), "DE"),
    ("offer", "gt", "DE", "FR"),
    ("citizenship", "not_in", "IN", ("FR",)),
    ("citizenship", "in", ({"code": "IN"},), ("FR",)),
]


def _gate_check(key: str, operator: str, value: Any, answer: Any) -> engine.GateCheck:
    gate = rule(key, operator, value)
    return engine.check_gate(gate, {**FOREIGNER, key: answer}, ON)


@pytest.mark.parametrize(("key", "operator", "value", "answer"), UNREADABLE)
def test_a_value_of_the_wrong_kind_makes_its_gate_unknown_whatever_the_answer(
    key, operator, value, answer
):
    check = _gate_check(key, operator, value, answer)
    assert (check.outcome, check.why) == (Outcome.UNKNOWN, Unknown.BAD_VALUE)


@pytest.mark.parametrize(("key", "operator", "value", "answer"), UNREADABLE)
def test_a_route_with_a_value_of_the_wrong_kind_may_fit_on_both_paths(key, operator, value, answer):
    """The plain engine (results, PDF) and the compiled one (questionnaire) agree."""
    card = route(rule(key, operator, value))
    given = {**FOREIGNER, key: answer}
    assert engine.evaluate_route(card, given, ON).verdict is Verdict.MAY_FIT
    compiled = engine.route_on(engine.compile_route(card), ON)
    assert engine.standing(compiled, given).verdict is Verdict.MAY_FIT


def test_one_unreadable_item_of_a_list_leaves_the_others_deciding_where_they_can():
    """ "is one of top100 or (unreadable)": a top100 answer is one of them whatever the other
    item meant; a top200 answer might be, so it is unknown, never "not one of them"."""
    assert _gate_check("rank", "in", ("top100", 5), "top100").outcome is Outcome.MET
    assert _gate_check("rank", "in", ("top100", 5), "top200").outcome is Outcome.UNKNOWN
    assert _gate_check("rank", "not_in", ("top100", 5), "top100").outcome is Outcome.NOT_MET
    assert _gate_check("rank", "not_in", ("top100", 5), "top200").outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("key", "operator", "value", "answer", "expected"),
    [
        ("age", "gte", 30, 30, Outcome.MET),
        ("age", "lt", Decimal("30.5"), 31, Outcome.NOT_MET),
        ("salary", "gte", 50700, Decimal(50700), Outcome.MET),
        ("salary", "lt", 45934.2, Decimal(50000), Outcome.NOT_MET),
        ("funds", "eq", True, True, Outcome.MET),
        ("rank", "in", ["top100", "top200"], "top200", Outcome.MET),
        ("degree", "gte", "bachelor", "none", Outcome.NOT_MET),
        ("offer", "eq", "none", "DE", Outcome.NOT_MET),
        ("offer", "in", ("DE", "none"), "none", Outcome.MET),
        ("citizenship", "not_in", ("IN", "GB"), ("FR", "IN"), Outcome.NOT_MET),
    ],
)
def test_values_of_the_right_kind_are_still_compared(key, operator, value, answer, expected):
    assert _gate_check(key, operator, value, answer).outcome is expected


def test_a_period_far_in_the_past_or_future_is_compared_not_refused():
    """A cut-off before year 1 is before every date: a 2024 graduate graduated after it."""
    long_ago = rule("graduation", "gte", YearsBefore(10**6))
    assert engine.check_gate(long_ago, {"graduation": 2024}, ON).outcome is Outcome.MET
    on_day_one = dt.date(1, 1, 1)
    recent = rule("graduation", "gte", YearsBefore(3))
    assert engine.check_gate(recent, {"graduation": 2024}, on_day_one).outcome is Outcome.MET
    assert QUESTIONS["graduation"].kind is engine.Kind.INTEGER
    ahead = rule("graduation", "lt", YearsBefore(-(10**6)))
    assert engine.check_gate(ahead, {"graduation": 2024}, ON).outcome is Outcome.MET


def test_a_condition_of_the_wrong_kind_is_unknown_never_met_or_not():
    clause = engine.Clause("funds", Operator.NE, "yes")
    questions = {"funds": QUESTIONS["funds"]}
    for answer in (True, False):
        outcome = engine.condition_outcome((clause,), questions, {"funds": answer}, ON)
        assert outcome is Outcome.UNKNOWN


# --- Stored rows: what load_rulebook makes of them, and every page that shows them ------------

BROKEN_NOTE = "could not be checked; advisers have been told"


def blue_card_with(**gate: Any) -> Requirement:
    """The small Blue Card (fits an Indian with a €60,000 offer in Germany) with one more
    gate on age, which such an applicant meets (30 ≤ 45) until its stored row is broken."""
    blue = blue_card()
    fields = {"question": Question.objects.get(key="age"), "operator": "lte", "value": 45}
    return RequirementFactory(route=blue, **({"order": 3} | fields | gate))


def indian_with_an_offer() -> Assessment:
    assessment = Assessment.objects.create()
    answers = {
        "citizenship": ["IN"],
        "age": 30,
        "education_level": "master",
        "job_offer_country": "DE",
        "offered_salary": "60000",
    }
    for key, value in answers.items():
        Answer.objects.create(assessment=assessment, question_key=key, value=value)
    return assessment


def break_value(gate: Requirement, value: Any) -> None:
    RequirementValue.objects.filter(requirement=gate).update(value=value)


# Each breaks one stored row of the extra gate, as SQL or an old row could (the admin and the
# catalogue refuse all of these).
BROKEN_ROWS: dict[str, Any] = {
    "a word for a number": lambda gate: break_value(gate, "abc"),
    "a word for a number, compared with ≠": lambda gate: (
        Requirement.objects.filter(pk=gate.pk).update(operator="ne"),
        break_value(gate, "abc"),
    ),
    "a number with 100,000 digits": lambda gate: break_value(gate, "1e99999"),
    "a list for one number": lambda gate: break_value(gate, [45, "x"]),
    "a period compared with =": lambda gate: (
        Requirement.objects.filter(pk=gate.pk).update(operator="eq"),
        break_value(gate, {"years_before": -5}),
    ),
    "an operator that does not exist": lambda gate: Requirement.objects.filter(pk=gate.pk).update(
        operator="≤"
    ),
    "a certainty that does not exist": lambda gate: RequirementValue.objects.filter(
        requirement=gate
    ).update(certainty="maybe"),
    "a condition with a word for a number": lambda gate: Requirement.objects.filter(
        pk=gate.pk
    ).update(applies_if=[{"question": "age", "operator": "gte", "value": "abc"}]),
    "a condition that is not a list": lambda gate: Requirement.objects.filter(pk=gate.pk).update(
        applies_if={"question": "age"}
    ),
    "a question of a kind that does not exist": lambda gate: Question.objects.filter(
        key="age"
    ).update(kind="number"),
    "a question whose choices are not pairs": lambda gate: Question.objects.filter(
        key="age"
    ).update(choices=5),
}


@pytest.mark.django_db
@pytest.mark.parametrize("broken", BROKEN_ROWS)
def test_a_stored_gate_that_cannot_be_read_is_an_unclear_rule_on_the_results_page(client, broken):
    BROKEN_ROWS[broken](blue_card_with())
    assessment = indian_with_an_offer()
    response = client.get(reverse("results", args=[assessment.token]))
    assert response.status_code == 200
    page = response.content.decode()
    may_fit = page[page.index('id="group-may_fit"') :]
    assert "EU Blue Card" in may_fit[: may_fit.index("</section>")]
    assert 'id="group-fits"' not in page
    assert BROKEN_NOTE in page
    assert max(len(line) for line in page.splitlines()) < 5000


@pytest.mark.django_db
@pytest.mark.parametrize("broken", BROKEN_ROWS)
def test_the_question_and_check_pages_show_with_a_stored_gate_that_cannot_be_read(client, broken):
    BROKEN_ROWS[broken](blue_card_with())
    token = indian_with_an_offer().token
    assert client.get(reverse("check", args=[token])).status_code == 200
    question = client.get(reverse("question", args=[token, "offered_salary"]))
    assert question.status_code == 200
    assert "EU Blue Card" in question.content.decode()


@pytest.mark.django_db
def test_the_pdf_is_made_and_says_may_fit_with_stored_gates_that_cannot_be_read():
    for number, broken in enumerate(BROKEN_ROWS):
        if "question" not in broken:  # the others break the age question for every gate
            BROKEN_ROWS[broken](blue_card_with(order=10 + number))
        Route.objects.filter(slug="de-blue-card").update(slug=f"de-blue-card-{number}")
    book = rules.load_rulebook()
    answers = questionnaire.saved_answers(indian_with_an_offer(), book)
    results = pdf.results_for(book, answers, timezone.localdate())
    assert {s.result.verdict for s in results.sections} == {Verdict.MAY_FIT}
    assert pdf.render_results(results).startswith(b"%PDF")


@pytest.mark.django_db
def test_a_key_fact_on_a_topic_that_does_not_exist_is_left_out_not_a_broken_page(client):
    blue = blue_card()
    KeyFact.objects.filter(route=blue).update(topic="rumours")
    response = client.get(reverse("results", args=[indian_with_an_offer().token]))
    assert response.status_code == 200
    assert "€75 visa, €100 permit" not in response.content.decode()
    named = "de-blue-card (published), key fact rumours: the topic does not exist"
    assert any(problem.startswith(named) for problem in catalogue_problems(ON))


@pytest.mark.django_db
def test_a_question_whose_ask_if_cannot_be_read_is_still_asked():
    """Asking one question too many costs the applicant a click; never asking it leaves
    every route that needs the answer undecided."""
    blue_card()
    Question.objects.filter(key="offered_salary").update(
        ask_if=[{"question": "age", "operator": "gt", "value": "abc"}]
    )
    book = rules.load_rulebook()
    answers = {"citizenship": ("IN",), "current_country": "IN", "destination_countries": None}
    answers |= {"age": 30, "job_offer_country": "DE"}
    today = timezone.localdate()
    assert "offered_salary" in [q.key for q in questionnaire.questions_to_ask(book, answers, today)]
    assert engine.should_ask(book.question("offered_salary"), book, answers, today)


@pytest.mark.django_db
def test_an_open_question_whose_show_if_cannot_be_read_is_shown(client):
    blue = blue_card()
    OpenQuestion.objects.filter(route=blue).update(
        show_if=[{"question": "age", "operator": "gte", "value": "1e99999"}]
    )
    page = client.get(reverse("results", args=[indian_with_an_offer().token])).content.decode()
    assert "27 or 21 months?" in page


# --- A review interval too long for any calendar (issue 14, row 6) -----------------------------

HUGE_INTERVALS = [3_000_000, 2**31 - 1]


@pytest.fixture
def adviser(client):
    user = adviser_user()
    client.force_login(user)
    return user


def route_reviewed_every(days: int, **fields: Any) -> Route:
    """A published route whose stored review interval bypassed the admin's 1 to 730 days."""
    route = blue_card(**fields)
    Route.objects.filter(pk=route.pk).update(review_interval_days=days)
    return route


@pytest.mark.django_db
@pytest.mark.parametrize("days", HUGE_INTERVALS)
def test_the_route_list_and_its_review_filter_show_a_route_reviewed_every_million_days(
    client, adviser, days
):
    route_reviewed_every(days)
    RouteFactory(name="Checked long ago", last_verified_on=dt.date(2020, 1, 1))
    changelist = reverse("admin:eligibility_route_changelist")

    def listed(**query: str) -> set[str]:
        response = client.get(changelist, query)
        assert response.status_code == 200
        return {route.name for route in response.context["cl"].result_list}

    assert listed() == {"EU Blue Card", "Checked long ago"}
    assert listed(review="overdue") == {"Checked long ago"}
    assert listed(review="current") == {"EU Blue Card"}


@pytest.mark.django_db
@pytest.mark.parametrize("days", HUGE_INTERVALS)
def test_the_review_queue_and_digest_leave_out_a_route_reviewed_every_million_days(
    client, adviser, days
):
    route_reviewed_every(days)
    RouteFactory(name="Checked long ago", last_verified_on=dt.date(2020, 1, 1))
    response = client.get(reverse("admin:eligibility_route_review"))
    assert response.status_code == 200
    overdue = [item.route.name for item in response.context["queue"].overdue]
    assert overdue == ["Checked long ago"]
    out = io.StringIO()
    call_command("review_digest", stdout=out)
    assert "Overdue for review: 1" in out.getvalue()
    assert "EU Blue Card" not in out.getvalue().split("Sources older")[0]


@pytest.mark.django_db
@pytest.mark.parametrize("days", HUGE_INTERVALS)
def test_results_and_the_pdf_show_a_route_reviewed_every_million_days(client, days):
    route_reviewed_every(days)
    assessment = indian_with_an_offer()
    response = client.get(reverse("results", args=[assessment.token]))
    assert response.status_code == 200
    assert "Review overdue" not in response.content.decode()
    book = rules.load_rulebook()
    answers = questionnaire.saved_answers(assessment, book)
    assert pdf.render_results(pdf.results_for(book, answers, ON)).startswith(b"%PDF")


# --- Drafting a route whose stored rows cannot be read ----------------------------------------


@pytest.mark.django_db
def test_a_draft_of_a_route_with_a_value_that_cannot_be_read_is_refused_with_a_message(
    client, adviser
):
    gate = blue_card_with()
    break_value(gate, "abc")
    response = client.post(
        reverse("admin:eligibility_route_draft", args=[gate.route_id]), follow=True
    )
    assert response.status_code == 200
    said = " ".join(str(m) for m in response.context["messages"])
    assert "cannot be read" in said and "“≤ abc” does not fit" in said
    assert not Route.objects.filter(draft_of=gate.route_id).exists()
    assert not RouteRevision.objects.filter(route=gate.route_id).exists()


@pytest.mark.django_db
def test_reverting_to_a_revision_that_no_longer_reads_is_refused_with_a_message(client, adviser):
    gate = blue_card_with()
    revision = drafts.record_first_revision(gate.route)
    assert revision is not None
    gates = revision.snapshot["requirements"]
    gates[-1]["values"][0]["value"] = "abc"
    RouteRevision.objects.filter(pk=revision.pk).update(snapshot=revision.snapshot)
    url = reverse("admin:eligibility_route_revert", args=[gate.route_id, revision.number])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    said = " ".join(str(m) for m in response.context["messages"])
    assert "Revision 1 cannot be restored" in said
    assert not Route.objects.filter(draft_of=gate.route_id).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("broken", [*BROKEN_ROWS, "a key fact on a topic that does not exist"])
def test_a_route_with_a_row_that_cannot_be_read_exports_and_its_draft_never_breaks_a_page(
    client, adviser, broken
):
    gate = blue_card_with()
    if broken in BROKEN_ROWS:
        BROKEN_ROWS[broken](gate)
    else:
        KeyFact.objects.filter(route=gate.route).update(topic="rumours")
    assert "slug: de-blue-card" in export_catalogue()
    response = client.post(reverse("admin:eligibility_route_draft", args=[gate.route_id]))
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 200
