"""Issue 11: whatever an adviser types into the admin or the catalogue file is checked as the
engine will read it, and refused at the field that caused it, with the row named in the error
note; and a route of realistic size can be saved.

Admin tests post each page back as the browser would (every field as the page shows it, with
the changes of the test), on draft routes, which are the ones advisers edit."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from eligibility.catalogue import CATALOGUE_PATH, CatalogueError, import_catalogue
from eligibility.checks import catalogue_problems
from eligibility.currencies import ISO_4217
from eligibility.models import KeyFact, OpenQuestion, Question, Requirement, RequirementValue, Route
from tests.factories import (
    KeyFactFactory,
    OpenQuestionFactory,
    RequirementFactory,
    RequirementValueFactory,
    RouteFactory,
    adviser_user,
)

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def tomorrow() -> dt.date:
    return today() + dt.timedelta(days=1)


def last_month() -> dt.date:
    return today() - dt.timedelta(days=30)


def shown(day: dt.date) -> str:
    """A date as the admin's date boxes show and read it (en-gb)."""
    return f"{day:%d/%m/%Y}"


@pytest.fixture
def adviser(client):
    user = adviser_user()
    client.force_login(user)
    return user


def draft_route(**fields: object) -> Route:
    """A draft route (the kind advisers edit) verified last month, with a key fact and an open
    question sourced last month."""
    route = RouteFactory(status=Route.Status.DRAFT, last_verified_on=last_month(), **fields)
    KeyFactFactory(route=route, topic="fees", text="€75", source_as_of=last_month())
    OpenQuestionFactory(route=route, topic="Timing", source_as_of=last_month())
    return route


def salary_gate(route: Route, **fields: object) -> Requirement:
    """Gate 3 of the route: an offered salary of at least 50,700, for the standard pathway."""
    fields = {"value": 50700, "source_as_of": last_month(), **fields}
    return RequirementFactory(
        route=route,
        question=Question.objects.get(key="offered_salary"),
        operator="gte",
        pathway="standard",
        order=3,
        **fields,
    )


# --- Posting a page back as the browser would ------------------------------------------------


class _FormReader(HTMLParser):
    """The fields a browser posts for the admin's change form: inputs, checked boxes, the
    selected option of each list and the text of each text box."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value") or "on"))
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options = (a["name"], "multiple" in a), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            self.fields += [(name, value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


def page_form(client, url: str, model: str) -> dict[str, Any]:
    """What the change form at `url` posts if saved as shown (a list where a name repeats)."""
    response = client.get(url)
    assert response.status_code == 200
    reader = _FormReader(f"{model}_form")
    reader.feed(response.text)
    data: dict[str, Any] = {}
    for name, value in reader.fields:
        if name in data:
            data[name] = [*([data[name]] if isinstance(data[name], str) else data[name]), value]
        else:
            data[name] = value
    return data


def save_route(client, route: Route, **changes: object):
    """Saves the route's page as shown, with `changes` (field names as posted)."""
    url = reverse("admin:eligibility_route_change", args=[route.pk])
    data = page_form(client, url, "route") | {k: str(v) for k, v in changes.items()}
    return client.post(url, data)


def save_gate(client, gate: Requirement, **changes: object):
    """Saves the gate's own page (its dated values are `values-0-…`) with `changes`."""
    url = reverse("admin:eligibility_requirement_change", args=[gate.pk])
    data = page_form(client, url, "requirement") | {k: str(v) for k, v in changes.items()}
    return client.post(url, data)


def save_question(client, question: Question, **changes: object):
    url = reverse("admin:eligibility_question_change", args=[question.pk])
    data = page_form(client, url, "question") | {k: str(v) for k, v in changes.items()}
    return client.post(url, data)


def field_errors(response, field: str) -> list[str]:
    """The errors the page shows at one of its own fields."""
    assert response.status_code == 200, "the page was saved"
    return list(response.context["adminform"].form.errors.get(field, []))


def row_errors(response, prefix: str, field: str, row: int = 0) -> list[str]:
    """The errors the page shows at a field of one of its inline rows."""
    assert response.status_code == 200, "the page was saved"
    formset = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == prefix
    )
    return list(formset.forms[row].errors.get(field, []))


def saved(response) -> bool:
    return response.status_code == 302


# --- The catalogue file ----------------------------------------------------------------------


def catalogue(**changes: object) -> str:
    """A one-route catalogue, verified last month; `changes` replaces its placeholders:
    currency, verified, interval, fact_url, fact_as_of, value, value_as_of, show_if."""
    fields: dict[str, object] = {
        "currency": "EUR",
        "verified": last_month().isoformat(),
        "interval": 90,
        "fact_url": "'https://example.org/fees'",
        "fact_as_of": last_month().isoformat(),
        "value": 50700,
        "value_as_of": last_month().isoformat(),
        "show_if": "[{question: current_country, operator: ne, value: DE}]",
        **changes,
    }
    return """\
routes:
- slug: de-test
  country: DE
  name: Test route
  status: draft
  currency: {currency}
  official_url: https://example.org/test-route
  last_verified_on: {verified}
  last_verified_by: Ada
  review_interval_days: {interval}
  key_facts:
  - topic: fees
    text: National visa €75.
    source: {{title: Fees page, url: {fact_url}, as_of: {fact_as_of}}}
  requirements:
  - pathway: standard
    question: offered_salary
    operator: gte
    values:
    - value: {value}
      source: {{title: Salary page, url: 'https://example.org/salary', as_of: {value_as_of}}}
  open_questions:
  - topic: Settlement
    text: 27 or 21 months?
    show_if: {show_if}
    source: {{title: Settlement page, url: 'https://example.org/settlement', as_of: {verified}}}
""".format(**fields)


def refused_import(text: str) -> str:
    with pytest.raises(CatalogueError) as caught:
        import_catalogue(text)
    assert not Route.objects.filter(slug="de-test").exists()
    return str(caught.value)


def test_the_catalogue_used_by_these_tests_loads():
    import_catalogue(catalogue())
    assert Route.objects.get(slug="de-test").requirements.count() == 1


# --- Conditions: "show only if", "ask only if", "applies only if" ----------------------------

NOT_A_CONDITION = [
    ('[{"question": "current_country", "operator": "ne", "value": "Germany"}]', "two-letter"),
    ("{}", "Write a list of clauses"),
    ("0", "Write a list of clauses"),
    ('"current_country is not DE"', "Write a list of clauses"),
    ('[{"question": "age", "operator": "gte", "value": 150}]', "from 16 to 100"),
]


@pytest.mark.parametrize(("show_if", "message"), NOT_A_CONDITION)
def test_a_show_if_that_does_not_read_is_refused_at_its_field(client, adviser, show_if, message):
    route = draft_route()
    response = save_route(client, route, **{"open_questions-0-show_if": show_if})
    assert message in " ".join(row_errors(response, "open_questions", "show_if"))
    assert OpenQuestion.objects.get(route=route).show_if == []


def test_a_show_if_that_reads_is_saved_and_an_empty_box_means_always_shown(client, adviser):
    route = draft_route()
    condition = [{"question": "current_country", "operator": "ne", "value": "DE"}]
    response = save_route(client, route, **{"open_questions-0-show_if": json.dumps(condition)})
    assert saved(response)
    assert OpenQuestion.objects.get(route=route).show_if == condition

    assert saved(save_route(client, route, **{"open_questions-0-show_if": ""}))
    assert OpenQuestion.objects.get(route=route).show_if == []


@pytest.mark.parametrize(
    ("show_if", "message"),
    [
        ("[{question: current_country, operator: ne, value: Germany}]", "two-letter"),
        ("{}", "Write a list of clauses"),
        ("0", "Write a list of clauses"),
        ("[{question: age, operator: gte, value: 150}]", "from 16 to 100"),
    ],
)
def test_a_show_if_that_does_not_read_is_refused_by_the_import(show_if, message):
    error = refused_import(catalogue(show_if=show_if))
    assert "route 1 (de-test), open question 1: show_if:" in error
    assert message in error


def test_an_empty_show_if_in_the_file_means_always_shown():
    import_catalogue(catalogue(show_if=""))
    assert OpenQuestion.objects.get(route__slug="de-test").show_if == []


@pytest.mark.parametrize(("ask_if", "message"), NOT_A_CONDITION)
def test_an_ask_if_that_does_not_read_is_refused_at_its_field(client, adviser, ask_if, message):
    question = Question.objects.get(key="proof_of_funds")
    response = save_question(client, question, ask_if=ask_if)
    assert message in " ".join(field_errors(response, "ask_if"))
    question.refresh_from_db()
    assert question.ask_if == []


def test_an_ask_if_that_reads_is_saved_and_an_empty_box_means_always_asked(client, adviser):
    question = Question.objects.get(key="proof_of_funds")
    condition = [{"question": "current_country", "operator": "ne", "value": "DE"}]
    assert saved(save_question(client, question, ask_if=json.dumps(condition)))
    question.refresh_from_db()
    assert question.ask_if == condition

    assert saved(save_question(client, question, ask_if=""))
    question.refresh_from_db()
    assert question.ask_if == []


QUESTION_ASKED_IF = """\
questions:
- key: de_recognised
  label: Is your degree recognised in Germany?
  kind: boolean
  section: Education
  order: 400
  ask_if: {}
"""


@pytest.mark.parametrize(
    "ask_if",
    [
        "[{question: current_country, operator: ne, value: Germany}]",
        "{}",
        "[{question: age, operator: gte, value: 150}]",
    ],
)
def test_an_ask_if_that_does_not_read_is_refused_by_the_import(ask_if):
    with pytest.raises(CatalogueError, match=r"question 1 \(de_recognised\): ask_if:"):
        import_catalogue(QUESTION_ASKED_IF.format(ask_if))
    assert not Question.objects.filter(key="de_recognised").exists()


def test_an_ask_if_that_reads_is_loaded_by_the_import():
    import_catalogue(QUESTION_ASKED_IF.format("[{question: age, operator: gte, value: 100}]"))
    assert Question.objects.get(key="de_recognised").ask_if == [
        {"question": "age", "operator": "gte", "value": 100}
    ]


@pytest.mark.parametrize(("applies_if", "message"), NOT_A_CONDITION)
def test_an_applies_if_that_does_not_read_is_refused_at_its_field(
    client, adviser, applies_if, message
):
    gate = salary_gate(draft_route())
    response = save_gate(client, gate, applies_if=applies_if)
    assert message in " ".join(field_errors(response, "applies_if"))
    gate.refresh_from_db()
    assert gate.applies_if == []


def test_an_applies_if_that_reads_is_saved_and_an_empty_box_means_always(client, adviser):
    gate = salary_gate(draft_route())
    condition = [{"question": "age", "operator": "lte", "value": 100}]
    assert saved(save_gate(client, gate, applies_if=json.dumps(condition)))
    gate.refresh_from_db()
    assert gate.applies_if == condition

    assert saved(save_gate(client, gate, applies_if=""))
    gate.refresh_from_db()
    assert gate.applies_if == []


def test_an_applies_if_that_does_not_read_is_refused_by_the_import():
    text = catalogue().replace(
        "    operator: gte\n",
        "    operator: gte\n    applies_if: [{question: age, operator: gte, value: 150}]\n",
    )
    error = refused_import(text)
    assert "route 1 (de-test), requirement 1: applies_if:" in error
    assert "from 16 to 100" in error


# --- Rule values and the question's kind, range and choices ----------------------------------


def test_a_value_above_the_questions_range_is_refused_at_its_field(client, adviser):
    gate = RequirementFactory(
        route=draft_route(),
        question=Question.objects.get(key="age"),
        operator="lte",
        value=45,
        source_as_of=last_month(),
    )
    response = save_gate(client, gate, **{"values-0-value": "101"})
    assert row_errors(response, "values", "value") == [
        "“≤ 101” does not fit “How old are you?”: Enter the value as a whole number from 16 to 100."
    ]
    assert gate.values.get().value == 45

    assert saved(save_gate(client, gate, **{"values-0-value": "100"}))
    assert gate.values.get().value == 100


def test_a_value_below_the_questions_range_is_refused_by_the_import():
    error = refused_import(catalogue(value=-1))
    assert "route 1 (de-test), requirement 1, value 1: value:" in error
    assert "from 0 to 1,000,000,000" in error

    import_catalogue(catalogue(value=0))
    assert RequirementValue.objects.get(requirement__route__slug="de-test").value == 0


def test_a_question_whose_largest_answer_is_below_its_smallest_is_refused(client, adviser):
    question = Question.objects.get(key="years_experience")
    response = save_question(client, question, min_value="10", max_value="5")
    assert field_errors(response, "max_value") == ["The largest answer is below the smallest."]
    question.refresh_from_db()
    assert (question.min_value, question.max_value) == (0, 60)

    assert saved(save_question(client, question, min_value="5", max_value="5"))
    question.refresh_from_db()
    assert (question.min_value, question.max_value) == (5, 5)


NUMBER_QUESTION = """\
questions:
- key: de_points
  label: How many points do you have?
  kind: integer
  min_value: {}
  max_value: 5
  section: Extra
  order: 500
"""


def test_a_question_whose_largest_answer_is_below_its_smallest_is_refused_by_the_import():
    with pytest.raises(
        CatalogueError,
        match=r"question 1 \(de_points\): max_value: The largest answer is below the smallest",
    ):
        import_catalogue(NUMBER_QUESTION.format(10))
    assert not Question.objects.filter(key="de_points").exists()

    import_catalogue(NUMBER_QUESTION.format(5))
    assert Question.objects.get(key="de_points").min_value == 5


def test_narrowing_a_questions_range_below_a_stored_value_is_refused(client, adviser):
    route = draft_route(slug="de-ages")
    RequirementFactory(
        route=route,
        question=Question.objects.get(key="age"),
        operator="lte",
        value=65,
        order=2,
        source_as_of=last_month(),
    )
    question = Question.objects.get(key="age")
    response = save_question(client, question, max_value="60")
    assert field_errors(response, "max_value") == [
        "Rules hold values this change would refuse: de-ages gate 2, value 65. Change those first."
    ]
    question.refresh_from_db()
    assert question.max_value == 100

    assert saved(save_question(client, question, max_value="65"))
    question.refresh_from_db()
    assert question.max_value == 65


def test_removing_a_choice_a_condition_uses_is_refused(client, adviser):
    route = draft_route(slug="de-ranked")
    OpenQuestionFactory(
        route=route,
        topic="Ranking",
        show_if=[{"question": "university_rank", "operator": "eq", "value": "top100"}],
        source_as_of=last_month(),
    )
    question = Question.objects.get(key="university_rank")
    kept = [pair for pair in question.choices if pair[0] != "top100"]
    response = save_question(client, question, choices=json.dumps(kept))
    assert field_errors(response, "choices") == [
        "Rules hold values this change would refuse: de-ranked open question “Ranking”, show "
        "only if. Change those first."
    ]

    relabelled = [[v, f"{label} (QS)"] for v, label in question.choices]
    assert saved(save_question(client, question, choices=json.dumps(relabelled)))


# --- Sources: a page, as of a day that has come ----------------------------------------------


def test_an_empty_source_url_is_refused_at_its_field(client, adviser):
    route = draft_route()
    response = save_route(client, route, **{"key_facts-0-source_url": ""})
    assert row_errors(response, "key_facts", "source_url") == ["This field is required."]
    assert KeyFact.objects.get(route=route).source_url == "https://example.org/source"

    url = "https://example.org/visa-fees"
    assert saved(save_route(client, route, **{"key_facts-0-source_url": url}))
    assert KeyFact.objects.get(route=route).source_url == url


def test_an_empty_source_url_of_a_dated_value_is_refused_at_its_field(client, adviser):
    gate = salary_gate(draft_route())
    response = save_gate(client, gate, **{"values-0-source_url": "  "})
    assert row_errors(response, "values", "source_url") == ["This field is required."]

    assert saved(save_gate(client, gate, **{"values-0-source_url": "https://example.org/pay"}))


@pytest.mark.parametrize("url", ["''", "' '"])
def test_an_empty_source_url_is_refused_by_the_import(url):
    error = refused_import(catalogue(fact_url=url))
    assert "route 1 (de-test), key fact 1: source_url:" in error

    import_catalogue(catalogue(fact_url="'https://example.org/visa-fees'"))
    assert KeyFact.objects.get(route__slug="de-test").source_url == "https://example.org/visa-fees"


def test_a_source_as_of_tomorrow_is_refused_at_its_field(client, adviser):
    route = draft_route()
    fields = ("key_facts-0-source_as_of", "open_questions-0-source_as_of")
    response = save_route(client, route, **dict.fromkeys(fields, shown(tomorrow())))
    message = (
        f"{tomorrow():%d %b %Y} is in the future: record the page's date, or the day it was read."
    )
    assert row_errors(response, "key_facts", "source_as_of") == [message]
    assert row_errors(response, "open_questions", "source_as_of") == [message]

    assert saved(save_route(client, route, **dict.fromkeys(fields, shown(today()))))
    assert KeyFact.objects.get(route=route).source_as_of == today()


def test_a_dated_value_sourced_tomorrow_is_refused_at_its_field(client, adviser):
    gate = salary_gate(draft_route())
    response = save_gate(client, gate, **{"values-0-source_as_of": shown(tomorrow())})
    assert "is in the future" in row_errors(response, "values", "source_as_of")[0]

    assert saved(save_gate(client, gate, **{"values-0-source_as_of": shown(today())}))


def test_a_source_as_of_tomorrow_is_refused_by_the_import():
    error = refused_import(catalogue(value_as_of=tomorrow().isoformat()))
    assert (
        f"route 1 (de-test), requirement 1, value 1: source_as_of: {tomorrow():%d %b %Y} is in "
        "the future" in error
    )
    import_catalogue(catalogue(value_as_of=today().isoformat()))


# --- The route: verified, reviewed, in a currency --------------------------------------------


def test_a_route_verified_tomorrow_is_refused_at_its_field(client, adviser):
    route = draft_route()
    response = save_route(client, route, last_verified_on=shown(tomorrow()))
    assert field_errors(response, "last_verified_on") == [
        f"{tomorrow():%d %b %Y} is in the future: record the day it was verified."
    ]
    route.refresh_from_db()
    assert route.last_verified_on == last_month()

    assert saved(save_route(client, route, last_verified_on=shown(today())))
    route.refresh_from_db()
    assert route.last_verified_on == today()


def test_a_route_verified_in_2030_is_refused_by_the_import():
    error = refused_import(catalogue(verified="2030-01-01"))
    assert (
        "route 1 (de-test): last_verified_on: 01 Jan 2030 is in the future: record the day it "
        "was verified." in error
    )
    import_catalogue(catalogue(verified=today().isoformat()))
    assert Route.objects.get(slug="de-test").last_verified_on == today()


@pytest.mark.parametrize(
    ("interval", "message"),
    [
        ("3000000", "Review a route at least every 730 days (two years)."),
        ("731", "Review a route at least every 730 days (two years)."),
        ("0", "Give a review interval of at least 1 day."),
    ],
)
def test_a_review_interval_of_3000000_days_is_refused_at_its_field(
    client, adviser, interval, message
):
    route = draft_route()
    response = save_route(client, route, review_interval_days=interval)
    assert field_errors(response, "review_interval_days") == [message]
    route.refresh_from_db()
    assert route.review_interval_days == 90


@pytest.mark.parametrize("interval", [1, 730])
def test_a_review_interval_from_1_to_730_days_is_saved(client, adviser, interval):
    route = draft_route()
    assert saved(save_route(client, route, review_interval_days=interval))
    route.refresh_from_db()
    assert route.review_interval_days == interval


def test_a_review_interval_of_3000000_days_is_refused_by_the_import():
    error = refused_import(catalogue(interval=3000000))
    assert "route 1 (de-test): review_interval_days: Review a route at least every 730" in error

    import_catalogue(catalogue(interval=730))
    assert Route.objects.get(slug="de-test").review_interval_days == 730


def test_a_currency_not_in_iso_4217_is_refused_at_its_field(client, adviser):
    route = draft_route()
    response = save_route(client, route, currency="XYZ")
    assert field_errors(response, "currency") == [
        "“XYZ” is not an ISO 4217 currency code; enter one like EUR."
    ]
    route.refresh_from_db()
    assert route.currency == "EUR"

    assert saved(save_route(client, route, currency="jpy"))
    route.refresh_from_db()
    assert route.currency == "JPY"


def test_a_currency_not_in_iso_4217_is_refused_by_the_import():
    error = refused_import(catalogue(currency="XYZ"))
    assert "route 1 (de-test): currency: “XYZ” is not an ISO 4217 currency code" in error

    import_catalogue(catalogue(currency="JPY"))
    assert Route.objects.get(slug="de-test").currency == "JPY"


def test_every_currency_of_the_catalogue_is_an_iso_4217_code():
    used = set(re.findall(r"^  currency: (\S+)$", CATALOGUE_PATH.read_text(), re.MULTILINE))
    assert used
    assert used <= ISO_4217


def test_check_catalogue_reports_a_stored_currency_or_review_interval_out_of_bounds():
    RouteFactory(slug="odd", currency="XYZ", review_interval_days=3000000)
    assert catalogue_problems(dt.date(2026, 6, 1)) == [
        "odd (published): its currency “XYZ” is not an ISO 4217 code.",
        "odd (published): it is reviewed every 3000000 days; make it 1 to 730.",
    ]


# --- The error note names the rows in error --------------------------------------------------


def test_the_error_note_names_each_row_in_error_on_the_route_page(client, adviser):
    route = draft_route()
    salary_gate(route)
    response = save_route(
        client,
        route,
        **{"requirements-0-explanation": "At least 50700 a year.", "key_facts-0-source_url": ""},
    )
    assert response.context["error_rows"] == [
        "gate 3 (Offered salary, pathway standard) — explanation",
        "key fact “Fees” — source URL",
    ]
    note = re.search(r'<div class="errornote" role="alert".*?</div>', response.text, re.DOTALL)
    assert note is not None
    assert "<li>gate 3 (Offered salary, pathway standard) — explanation</li>" in note.group()
    assert "<li>key fact “Fees” — source URL</li>" in note.group()


def test_the_error_note_names_dated_values_by_their_dates(client, adviser):
    gate = salary_gate(draft_route(), effective_from=dt.date(2026, 1, 1))
    response = save_gate(
        client, gate, **{"values-0-value": "lots", "values-0-source_as_of": shown(tomorrow())}
    )
    assert response.context["error_rows"] == [
        "dated value 1 (from 01 Jan 2026 to no end) — value, source as of"
    ]


def test_the_error_note_names_values_in_force_together(client, adviser):
    gate = salary_gate(draft_route())
    url = reverse("admin:eligibility_requirement_change", args=[gate.pk])
    data = page_form(client, url, "requirement")
    second = {
        k.replace("values-0-", "values-1-"): v
        for k, v in data.items()
        if k.startswith("values-0-") and not k.endswith(("-id", "-DELETE"))
    }
    data |= second | {"values-TOTAL_FORMS": "2"}
    response = client.post(url, data)
    assert response.context["error_rows"] == [
        "dated values: Two values are in force from the start: give the earlier one a last day "
        "before the next one starts."
    ]


def test_a_page_without_errors_names_no_rows(client, adviser):
    route = draft_route()
    response = client.get(reverse("admin:eligibility_route_change", args=[route.pk]))
    assert response.context["error_rows"] == []
    assert 'role="alert"' not in response.text


# --- A route of realistic size ---------------------------------------------------------------


def test_a_draft_route_of_300_gates_with_dated_values_facts_and_open_questions_saves(
    client, adviser
):
    route = RouteFactory(status=Route.Status.DRAFT, last_verified_on=last_month())
    age = Question.objects.get(key="age")
    for order in range(1, 301):
        gate = RequirementFactory(
            route=route,
            question=age,
            operator="lte",
            order=order,
            value=45,
            effective_until=dt.date(2025, 12, 31),
            source_as_of=last_month(),
        )
        RequirementValueFactory(
            requirement=gate,
            value=50,
            effective_from=dt.date(2026, 1, 1),
            source_as_of=last_month(),
        )
    for topic in KeyFact.Topic:
        KeyFactFactory(route=route, topic=topic.value, source_as_of=last_month())
    for n in range(10):
        OpenQuestionFactory(route=route, topic=f"Open question {n}", source_as_of=last_month())

    url = reverse("admin:eligibility_route_change", args=[route.pk])
    data = page_form(client, url, "route")
    gates = [name for name in data if re.fullmatch(r"requirements-\d+-pathway", name)]
    assert len(gates) == 300
    data |= dict.fromkeys(gates, "standard")
    response = client.post(url, data)

    assert saved(response), response.status_code
    assert route.requirements.filter(pathway="standard").count() == 300
    assert RequirementValue.objects.filter(requirement__route=route).count() == 600
