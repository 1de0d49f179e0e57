"""Advisers change published rules through drafts: applicants keep the published rules until
a second adviser with the publish permission reviews the draft's impact and publishes it;
every publication is a revision that can be reverted to, through review again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from eligibility.advisers import drafts
from eligibility.models import (
    Assessment,
    Question,
    Requirement,
    RequirementValue,
    Route,
    Scenario,
    ScenarioExpectation,
)
from eligibility.rules import load_rulebook
from tests.factories import (
    KeyFactFactory,
    OpenQuestionFactory,
    RequirementFactory,
    RouteFactory,
    adviser_user,
)

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 6, 1)


@pytest.fixture
def ada():
    return adviser_user("ada")


@pytest.fixture
def bea():
    return adviser_user("bea", reviewer=True)


@pytest.fixture
def salary_route():
    """A published route whose one gate asks for a salary of at least 50,700."""
    gate = RequirementFactory(
        route=RouteFactory(slug="blue", name="Blue Card"),
        question=Question.objects.get(key="offered_salary"),
        operator="gte",
        pathway="standard",
        value=50700,
    )
    return gate.route


def _published_salary(slug: str = "blue") -> object:
    route = next(r for r in load_rulebook().routes if r.slug == slug)
    return route.requirements[0].values[0].value


def _draft_value(draft: Route) -> RequirementValue:
    return RequirementValue.objects.get(requirement__route=draft)


def _expect(route: Route, name: str, salary: int, verdict: str) -> Scenario:
    scenario = Scenario.objects.create(
        name=name, on=ON, answers={"citizenship": ["IN"], "offered_salary": salary}
    )
    ScenarioExpectation.objects.create(scenario=scenario, route=route, verdict=verdict)
    return scenario


def test_editing_a_draft_leaves_applicants_on_the_published_rules(salary_route, ada):
    draft = drafts.open_draft(salary_route, ada)
    _draft_value(draft).__class__.objects.filter(pk=_draft_value(draft).pk).update(value=5000000)

    assert draft.status == Route.Status.DRAFT and draft.draft_of == salary_route
    assert str(_published_salary()) == "50700"
    assert [r.slug for r in load_rulebook().routes] == ["blue"]


def test_opening_a_draft_twice_gives_the_same_draft(salary_route, ada, bea):
    assert drafts.open_draft(salary_route, ada) == drafts.open_draft(salary_route, bea)


def test_the_author_cannot_publish_their_own_draft(salary_route, bea):
    draft = drafts.open_draft(salary_route, bea)

    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.publish(draft, bea)

    assert any("second adviser" in reason for reason in refused.value.reasons)
    assert Route.objects.filter(pk=draft.pk).exists()


def test_an_adviser_without_the_publish_permission_cannot_publish(salary_route, ada):
    other = adviser_user("cy")
    draft = drafts.open_draft(salary_route, ada)

    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.publish(draft, other)

    assert any("Reviewer" in reason for reason in refused.value.reasons)


def test_a_second_adviser_publishes_the_draft_over_the_route(salary_route, ada, bea):
    draft = drafts.open_draft(salary_route, ada)
    RequirementValue.objects.filter(pk=_draft_value(draft).pk).update(value=52000)

    revision = drafts.publish(draft, bea)

    assert str(_published_salary()) == "52000"
    assert not Route.objects.filter(pk=draft.pk).exists()
    assert revision.route == salary_route and revision.published_by == bea
    assert revision.drafted_by == ada
    # the state before the change is kept as revision 1, so it can be reverted to
    assert list(salary_route.revisions.values_list("number", flat=True)) == [2, 1]


def test_a_draft_with_a_failing_scenario_cannot_be_published(salary_route, ada, bea):
    _expect(salary_route, "Offer of 51,000", 51000, "fits")
    draft = drafts.open_draft(salary_route, ada)
    RequirementValue.objects.filter(pk=_draft_value(draft).pk).update(value=5000000)

    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.publish(draft, bea)

    assert any("scenario" in reason for reason in refused.value.reasons)
    assert str(_published_salary()) == "50700"


def test_the_impact_report_counts_changed_verdicts_and_shows_answers_without_tokens(
    salary_route, ada
):
    _expect(salary_route, "Offer of 51,000", 51000, "fits")
    assessment = Assessment.objects.create()
    assessment.answers.create(question_key="offered_salary", value=51000)
    assessment.answers.create(question_key="citizenship", value=["IN"])
    draft = drafts.open_draft(salary_route, ada)
    RequirementValue.objects.filter(pk=_draft_value(draft).pk).update(value=5000000)

    found = drafts.impact(draft, today=ON)

    assert [(s.before, s.after, s.count) for s in found.scenario_shifts] == [
        ("Fits", "Does not fit", 1)
    ]
    assert [(s.before, s.after, s.count) for s in found.assessment_shifts] == [
        ("Fits", "Does not fit", 1)
    ]
    assert len(found.examples) == 2
    assert all(assessment.token not in str(example) for example in found.examples)
    assert [run.scenario_name for run in found.failing] == ["Offer of 51,000"]


def test_one_unit_below_and_at_a_new_threshold_in_the_impact_report(salary_route, ada):
    _expect(salary_route, "At 52,000", 52000, "fits")
    _expect(salary_route, "At 51,999", 51999, "does_not_fit")
    draft = drafts.open_draft(salary_route, ada)
    RequirementValue.objects.filter(pk=_draft_value(draft).pk).update(value=52000)

    found = drafts.impact(draft, today=ON)

    assert found.failing == []
    assert [(s.before, s.after, s.count) for s in found.scenario_shifts] == [
        ("Fits", "Does not fit", 1),
        ("Fits", "Fits", 1),
    ]


def test_history_names_the_gate_by_pathway_and_dates_with_old_and_new_values(
    salary_route, ada, bea, client
):
    draft = drafts.open_draft(salary_route, ada)
    RequirementValue.objects.filter(pk=_draft_value(draft).pk).update(value=52000)
    drafts.publish(draft, bea)
    client.force_login(ada)

    page = client.get(reverse("admin:eligibility_route_revisions", args=[salary_route.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "Gate “standard · offered_salary gte”, value from the start" in text
    assert "50700" in text and "52000" in text
    assert "Published by bea" in text and "drafted by ada" in text


def test_reverting_opens_a_draft_that_goes_through_review(salary_route, ada, bea):
    draft = drafts.open_draft(salary_route, ada)
    RequirementValue.objects.filter(pk=_draft_value(draft).pk).update(value=52000)
    drafts.publish(draft, bea)
    first = salary_route.revisions.get(number=1)

    reverted = drafts.revert_to(first, ada)

    assert str(_published_salary()) == "52000"  # not live until reviewed
    assert str(_draft_value(reverted).value) == "50700"
    drafts.publish(reverted, bea)
    assert str(_published_salary()) == "50700"
    assert salary_route.revisions.count() == 3


def test_a_withdrawing_draft_takes_the_route_off_the_site_when_published(salary_route, ada, bea):
    draft = drafts.open_draft(salary_route, ada)
    Route.objects.filter(pk=draft.pk).update(withdraw=True)
    draft.refresh_from_db()

    drafts.publish(draft, bea)

    assert load_rulebook().routes == ()
    assert Route.objects.get(pk=salary_route.pk).status == Route.Status.DRAFT


def test_a_new_route_is_published_by_a_second_adviser_only(ada, bea):
    new = RequirementFactory(
        route=RouteFactory(slug="ca", name="Canada", status=Route.Status.DRAFT, drafted_by=ada),
    ).route

    with pytest.raises(drafts.PublishRefused):
        drafts.publish(new, ada)
    drafts.publish(new, bea)

    assert [r.slug for r in load_rulebook().routes] == ["ca"]


# --- Through the admin ------------------------------------------------------------------------


def test_a_published_route_cannot_be_edited_or_deleted_in_the_admin(salary_route, ada, client):
    client.force_login(ada)

    page = client.get(reverse("admin:eligibility_route_change", args=[salary_route.pk]))
    deleted = client.post(reverse("admin:eligibility_route_delete", args=[salary_route.pk]))

    assert page.status_code == 200 and "Edit in a draft" in page.content.decode()
    assert 'name="name"' not in page.content.decode()  # read-only
    assert deleted.status_code == 403
    assert Route.objects.filter(pk=salary_route.pk).exists()


def test_a_gate_of_a_published_route_cannot_be_changed_in_the_admin(salary_route, ada, client):
    client.force_login(ada)
    gate = Requirement.objects.get(route=salary_route)

    response = client.post(
        reverse("admin:eligibility_requirement_change", args=[gate.pk]), {"pathway": "x"}
    )

    assert response.status_code == 403
    assert Requirement.objects.get(pk=gate.pk).pathway == "standard"


def test_the_admin_opens_a_draft_and_refuses_self_publishing(salary_route, ada, client):
    client.force_login(ada)
    opened = client.post(reverse("admin:eligibility_route_draft", args=[salary_route.pk]))
    draft = Route.objects.get(draft_of=salary_route)

    impact = client.get(reverse("admin:eligibility_route_impact", args=[draft.pk]))
    published = client.post(reverse("admin:eligibility_route_publish", args=[draft.pk]))

    assert opened.status_code == 302
    assert "a second adviser must review" in impact.content.decode()
    assert published.status_code == 302
    assert Route.objects.filter(pk=draft.pk).exists()


def test_the_preview_shows_the_full_results_with_the_draft(salary_route, ada, client):
    draft = drafts.open_draft(salary_route, ada)
    RequirementValue.objects.filter(pk=_draft_value(draft).pk).update(value=52000)
    client.force_login(ada)

    page = client.get(
        reverse("admin:eligibility_route_preview", args=[draft.pk]),
        {"answers": '{"citizenship": ["IN"], "offered_salary": 51000}', "on": "2026-06-01"},
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert "Preview: Blue Card as its draft would publish it" in text
    assert "52,000" in text


def test_unreadable_preview_answers_get_a_message_at_the_field(salary_route, ada, client):
    client.force_login(ada)

    page = client.get(
        reverse("admin:eligibility_route_preview", args=[salary_route.pk]),
        {"answers": '{"offered_salary": "lots"}'},
    )

    assert page.status_code == 400
    assert 'aria-invalid="true"' in page.content.decode()


def test_a_save_after_someone_elses_is_refused_saying_who_changed_what(salary_route, ada, client):
    draft = drafts.open_draft(salary_route, ada)
    client.force_login(ada)
    url = reverse("admin:eligibility_route_change", args=[draft.pk])
    opened = client.get(url)
    mark = opened.context["adminform"].form["seen_entry"].value()
    other = adviser_user("cy")
    client.force_login(other)
    first = client.post(url, _route_post(draft, mark, summary="Cy's summary"))
    client.force_login(ada)

    second = client.post(url, _route_post(draft, mark, summary="Ada's summary"))

    assert first.status_code == 302
    assert second.status_code == 200
    text = second.content.decode()
    assert "This route was saved after you opened" in text and "cy at" in text
    assert "Ada&#x27;s summary" in text  # what Ada typed is still in the form
    assert Route.objects.get(pk=draft.pk).summary == "Cy's summary"


def _route_post(route: Route, mark: str, **changes: str) -> dict[str, str]:
    data = {
        "name": route.name,
        "country": route.country.code,
        "official_name": route.official_name,
        "summary": route.summary,
        "official_url": route.official_url,
        "opens_on": "",
        "closes_on": "",
        "points_needed": "",
        "currency": route.currency,
        "last_verified_on": route.last_verified_on.isoformat(),
        "review_interval_days": str(route.review_interval_days),
        "change_note": "",
        "seen_entry": mark,
        **changes,
    }
    for prefix, rows in (
        ("requirements", route.requirements.all()),
        ("key_facts", route.key_facts.all()),
        ("open_questions", route.open_questions.all()),
        ("next_steps", route.next_steps.all()),
    ):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
        assert not list(rows) or prefix == "requirements"
    gates = list(route.requirements.all())
    data["requirements-TOTAL_FORMS"] = data["requirements-INITIAL_FORMS"] = str(len(gates))
    for i, gate in enumerate(gates):
        data |= {
            f"requirements-{i}-id": str(gate.pk),
            f"requirements-{i}-route": str(route.pk),
            f"requirements-{i}-order": str(gate.order),
            f"requirements-{i}-pathway": gate.pathway,
            f"requirements-{i}-question": str(gate.question_id),
            f"requirements-{i}-operator": gate.operator,
            f"requirements-{i}-points": "",
            f"requirements-{i}-points_group": "",
            f"requirements-{i}-explanation": "",
        }
    return data


def test_a_draft_published_meanwhile_is_refused_not_published_twice(salary_route, ada, bea):
    draft = drafts.open_draft(salary_route, ada)
    drafts.publish(draft, bea)

    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.publish(draft, bea)

    assert refused.value.reasons == ["This draft was published or discarded meanwhile."]
    assert salary_route.revisions.count() == 2


def test_a_gate_page_saved_after_someone_elses_save_is_refused(salary_route, ada, client):
    draft = drafts.open_draft(salary_route, ada)
    gate = Requirement.objects.get(route=draft)
    client.force_login(ada)
    url = reverse("admin:eligibility_requirement_change", args=[gate.pk])
    mark = client.get(url).context["adminform"].form["seen_entry"].value()
    value = RequirementValue.objects.filter(requirement=gate).first()
    value.note = "Changed elsewhere."
    value.save()  # someone's save

    response = client.post(url, {"route": draft.pk, "seen_entry": mark, "pathway": "renamed"})

    assert response.status_code == 200
    assert "This route was saved after you opened" in response.content.decode()
    assert Requirement.objects.get(pk=gate.pk).pathway == "standard"


# --- The catalogue import and drafts -----------------------------------------------------------

REPLACEMENT = """
routes:
- slug: blue
  country: DE
  name: Blue Card
  official_url: https://example.org/routes/blue
  status: published
  currency: EUR
  last_verified_on: 2026-11-01
  last_verified_by: Fact sheet
  requirements:
  - question: offered_salary
    operator: gte
    pathway: standard
    values:
    - value: 53000
      source: {title: Example Gazette, url: 'https://example.org/gazette', as_of: 2026-11-01}
"""


def test_replacing_a_route_by_import_keeps_its_history_and_scenarios(salary_route, ada, bea):
    from eligibility.catalogue import import_catalogue

    scenario = _expect(salary_route, "Offer of 53,000", 53000, "fits")
    drafts.publish(drafts.open_draft(salary_route, ada), bea)

    import_catalogue(REPLACEMENT, replace=True)

    route = Route.objects.get(slug="blue")
    assert route.pk == salary_route.pk
    assert str(_published_salary()) == "53000"
    assert list(route.revisions.values_list("number", "change_note")) == [
        (3, "Replaced by import_routes."),
        (2, ""),
        (1, "As first recorded."),
    ]
    assert scenario.expectations.get().route == route


def test_a_route_with_an_open_draft_is_not_replaced_by_import(salary_route, ada):
    from eligibility.catalogue import CatalogueError, import_catalogue

    drafts.open_draft(salary_route, ada)

    with pytest.raises(CatalogueError, match="open draft"):
        import_catalogue(REPLACEMENT, replace=True)

    assert str(_published_salary()) == "50700"


def test_a_new_operator_that_cannot_read_the_stored_values_is_refused_on_the_route_page(
    salary_route, ada, client
):
    draft = drafts.open_draft(salary_route, ada)
    client.force_login(ada)
    url = reverse("admin:eligibility_route_change", args=[draft.pk])
    mark = client.get(url).context["adminform"].form["seen_entry"].value()
    data = _route_post(draft, mark)
    data["requirements-0-question"] = str(Question.objects.get(key="citizenship").pk)
    data["requirements-0-operator"] = "gte"

    response = client.post(url, data)

    assert response.status_code == 200
    assert "would not read" in response.content.decode()
    assert Requirement.objects.get(route=draft).question.key == "offered_salary"


def test_a_new_operator_that_reads_the_stored_values_is_saved(salary_route, ada, client):
    draft = drafts.open_draft(salary_route, ada)
    client.force_login(ada)
    url = reverse("admin:eligibility_route_change", args=[draft.pk])
    mark = client.get(url).context["adminform"].form["seen_entry"].value()
    data = _route_post(draft, mark)
    data["requirements-0-operator"] = "gt"

    response = client.post(url, data)

    assert response.status_code == 302
    assert Requirement.objects.get(route=draft).operator == "gt"


def test_the_history_button_opens_the_revisions_with_old_and_new_values(salary_route, ada, client):
    draft = drafts.open_draft(salary_route, ada)
    client.force_login(ada)

    response = client.get(reverse("admin:eligibility_route_history", args=[draft.pk]))

    assert response.status_code == 302
    assert response.url == reverse("admin:eligibility_route_revisions", args=[salary_route.pk])


@pytest.mark.parametrize("view", ["impact", "preview", "revisions", "scenarios", "figures"])
def test_the_draft_pages_read_as_many_queries_for_twelve_routes_as_for_two(
    salary_route, ada, client, view
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    draft = drafts.open_draft(salary_route, ada)
    _expect(salary_route, "Offer of 51,000", 51000, "fits")
    client.force_login(ada)
    url = reverse(f"admin:eligibility_route_{view}", args=[draft.pk])
    query = {"answers": '{"offered_salary": 51000}'} if view == "preview" else {}

    def count() -> int:
        client.get(url, query)  # the same cache state each time: the rules just loaded
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, query).status_code == 200
        return len(queries)

    def add_routes(numbers: range) -> None:
        for n in numbers:
            RequirementFactory(
                route=RouteFactory(slug=f"more-{n}", name=f"More {n}"),
                question=Question.objects.get(key="offered_salary"),
                operator="gte",
                value=1000 + n,
            )
            KeyFactFactory(route=Route.objects.get(slug=f"more-{n}"))
            OpenQuestionFactory(route=Route.objects.get(slug=f"more-{n}"))
            assessment = Assessment.objects.create()
            assessment.answers.create(question_key="offered_salary", value=51000)

    add_routes(range(1))  # with the draft's own route: two routes
    few = count()
    add_routes(range(1, 11))
    assert count() == few


def test_the_impact_report_reads_the_most_recent_assessments_and_says_how_many_in_all(
    salary_route, ada, monkeypatch
):
    monkeypatch.setattr(drafts, "ASSESSMENTS_CHECKED", 2)
    for salary in (40000, 51000, 60000):
        Assessment.objects.create().answers.create(question_key="offered_salary", value=salary)
    draft = drafts.open_draft(salary_route, ada)

    found = drafts.impact(draft, today=ON)

    assert (found.assessments, found.live_assessments) == (2, 3)


def test_an_assessment_past_its_retention_is_left_out_of_the_impact(salary_route, ada, settings):
    old = Assessment.objects.create()
    Assessment.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=settings.ASSESSMENT_RETENTION_DAYS, seconds=1)
    )
    Assessment.objects.create()
    draft = drafts.open_draft(salary_route, ada)

    assert drafts.impact(draft, today=ON).live_assessments == 1


@pytest.mark.parametrize(
    "answers", ["[" * 100_000 + "]" * 100_000, '{"age": ' + "9" * 5000 + "}", '{"age": 1e999}']
)
def test_hostile_preview_answers_get_a_message_not_an_error(salary_route, ada, client, answers):
    client.force_login(ada)

    response = client.get(
        reverse("admin:eligibility_route_preview", args=[salary_route.pk]), {"answers": answers}
    )

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()


@pytest.mark.parametrize("answers", ["[" * 100_000 + "]" * 100_000, '{"age": ' + "9" * 5000 + "}"])
def test_hostile_scenario_answers_are_refused_at_the_field(ada, client, answers):
    client.force_login(ada)

    response = client.post(
        reverse("admin:eligibility_scenario_add"),
        {
            "name": "Hostile",
            "on": "2026-06-01",
            "answers": answers,
            "expectations-TOTAL_FORMS": "0",
            "expectations-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["answers"]
    assert not Scenario.objects.exists()


def test_a_hostile_applies_if_on_the_gate_page_is_refused_at_the_field(salary_route, ada, client):
    draft = drafts.open_draft(salary_route, ada)
    gate = Requirement.objects.get(route=draft)
    client.force_login(ada)
    url = reverse("admin:eligibility_requirement_change", args=[gate.pk])

    response = client.post(
        url,
        {
            "route": draft.pk,
            "question": gate.question_id,
            "operator": gate.operator,
            "order": "1",
            "applies_if": "[" * 100_000 + "]" * 100_000,
            "values-TOTAL_FORMS": "0",
            "values-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["applies_if"]
    assert Requirement.objects.get(pk=gate.pk).applies_if == []


def test_a_draft_with_a_catalogue_problem_cannot_be_published(salary_route, ada, bea):
    draft = drafts.open_draft(salary_route, ada)
    RequirementValue.objects.filter(requirement__route=draft).delete()  # a gate with no values

    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.publish(draft, bea)

    assert refused.value.reasons == ["check_catalogue finds 1 problem(s) in the draft."]
    assert str(_published_salary()) == "50700"


def test_a_draft_without_problems_or_failing_scenarios_has_no_refusal_for_a_reviewer(
    salary_route, ada, bea
):
    _expect(salary_route, "Offer of 51,000", 51000, "fits")
    draft = drafts.open_draft(salary_route, ada)

    assert drafts.refusals(draft, bea) == []


def test_advisers_may_read_the_audit_log(ada, client):
    client.force_login(ada)

    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 200


def _form_post(response) -> dict[str, str]:
    """What the change page would post back unchanged: its form's fields as shown."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            data[name] = "on"
        else:
            data[name] = value if isinstance(value, str) else str(field.prepare_value(value))
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data |= {management.add_prefix(k): str(v) for k, v in management.initial.items()}
    return data


def test_a_question_saved_after_someone_elses_save_is_refused(ada, client):
    question = Question.objects.get(key="age")
    url = reverse("admin:eligibility_question_change", args=[question.pk])
    client.force_login(ada)
    opened = _form_post(client.get(url))
    other = adviser_user("cy")
    client.force_login(other)
    first = client.post(url, {**opened, "help_text": "Cy's help"})
    client.force_login(ada)

    second = client.post(url, {**opened, "help_text": "Ada's help"})

    assert first.status_code == 302, first.context["adminform"].form.errors
    assert second.status_code == 200
    assert "This question was saved after you opened" in second.content.decode()
    assert Question.objects.get(pk=question.pk).help_text == "Cy's help"


def test_a_question_saved_twice_by_one_adviser_reloading_between_is_accepted(ada, client):
    question = Question.objects.get(key="age")
    url = reverse("admin:eligibility_question_change", args=[question.pk])
    client.force_login(ada)
    client.post(url, {**_form_post(client.get(url)), "help_text": "First"})

    response = client.post(url, {**_form_post(client.get(url)), "help_text": "Second"})

    assert response.status_code == 302
    assert Question.objects.get(pk=question.pk).help_text == "Second"


def test_a_scenario_saved_after_someone_elses_save_is_refused(salary_route, ada, client):
    scenario = _expect(salary_route, "Offer of 51,000", 51000, "fits")
    url = reverse("admin:eligibility_scenario_change", args=[scenario.pk])
    client.force_login(ada)
    opened = {
        **_form_post(client.get(url)),
        "expectations-TOTAL_FORMS": "0",  # the expectations stay as they are
        "expectations-INITIAL_FORMS": "0",
    }
    assert client.post(url, {**opened, "name": "Renamed by Ada"}).status_code == 302

    second = client.post(url, {**opened, "name": "Renamed again"})

    assert second.status_code == 200
    assert "This scenario was saved after you opened" in second.content.decode()
    assert Scenario.objects.get(pk=scenario.pk).name == "Renamed by Ada"


def test_a_new_routes_first_revision_names_who_drafted_it_and_why(ada, bea):
    new = RequirementFactory(
        route=RouteFactory(
            slug="ca",
            name="Canada",
            status=Route.Status.DRAFT,
            drafted_by=ada,
            change_note="A new route",
        ),
    ).route

    revision = drafts.publish(new, bea)

    assert (revision.drafted_by, revision.change_note) == (ada, "A new route")
