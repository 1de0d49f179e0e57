"""New figures from a date, for many gates on one page: the yearly threshold update."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from eligibility.advisers import drafts
from eligibility.models import Question, RequirementValue, Route
from eligibility.rules import rulebook_with_draft
from tests.factories import (
    RequirementFactory,
    RequirementValueFactory,
    RouteFactory,
    adviser_user,
)

pytestmark = pytest.mark.django_db

NEW_YEAR = dt.date(2027, 1, 1)


@pytest.fixture
def ada(client):
    user = adviser_user()
    client.force_login(user)
    return user


@pytest.fixture
def draft(ada):
    """A Blue Card like the real one: a 2026 threshold, unclear from 2027, and an approval band
    (a chance) below the standard threshold; opened as a draft."""
    route = RouteFactory(slug="blue", name="Blue Card")
    salary = Question.objects.get(key="offered_salary")
    standard = RequirementFactory(
        route=route,
        question=salary,
        operator="gte",
        pathway="standard",
        value=50700,
        effective_from=dt.date(2026, 1, 1),
        effective_until=dt.date(2026, 12, 31),
        order=1,
    )
    RequirementValueFactory(
        requirement=standard,
        value=None,
        certainty="unclear",
        note="The 2027 figure is not published yet.",
        effective_from=NEW_YEAR,
    )
    RequirementFactory(
        route=route,
        question=salary,
        operator="lt",
        pathway="shortage",
        value=50700,
        certainty="chance",
        note="The Federal Employment Agency must approve.",
        effective_from=dt.date(2026, 1, 1),
        order=2,
    )
    return drafts.open_draft(route, ada)


def _post(client, draft: Route, **figures: str):
    gates = {g.pathway: g.pk for g in draft.requirements.all()}
    data = {
        "effective_from": "2027-01-01",
        "source_title": "Federal Gazette: 2027 thresholds",
        "source_url": "https://example.org/gazette/2027-thresholds",
        "source_as_of": "2026-11-20",
        **{
            f"gate_{gates[pathway.split()[0]]}"
            + ("_note" if pathway.endswith(" note") else ""): value
            for pathway, value in figures.items()
        },
    }
    return client.post(reverse("admin:eligibility_route_figures", args=[draft.pk]), data)


def _values(draft: Route, pathway: str) -> list[tuple[object, ...]]:
    return [
        (v.value, v.certainty, v.effective_from, v.effective_until)
        for v in RequirementValue.objects.filter(
            requirement__route=draft, requirement__pathway=pathway
        ).order_by("effective_from")
    ]


def test_a_figure_fills_the_placeholder_that_starts_on_the_day(client, draft):
    response = _post(client, draft, standard="52000")

    assert response.status_code == 302
    assert _values(draft, "standard") == [
        (50700, "settled", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        (52000, "settled", NEW_YEAR, None),
    ]


def test_the_day_before_keeps_the_old_figure_and_the_day_itself_has_the_new(client, draft):
    _post(client, draft, standard="52000")
    gate = next(r for r in rulebook_with_draft(draft).routes).requirements[0]

    assert gate.value_on(dt.date(2026, 12, 31)).value == 50700
    assert gate.value_on(NEW_YEAR).value == 52000


def _note(draft: Route) -> str:
    return f"gate_{draft.requirements.get(pathway='shortage').pk}_note"


def test_a_figure_without_a_placeholder_ends_the_value_in_force_the_day_before(client, draft):
    _post(client, draft, shortage="52000", **{"shortage note": "The Agency must approve."})

    assert _values(draft, "shortage") == [
        (50700, "chance", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        (52000, "chance", NEW_YEAR, None),  # an approval band stays a chance
    ]
    new = RequirementValue.objects.get(
        requirement__route=draft, requirement__pathway="shortage", effective_from=NEW_YEAR
    )
    assert new.note == "The Agency must approve."


def test_a_new_chance_figure_without_a_note_is_refused_the_old_note_is_never_copied(client, draft):
    response = _post(client, draft, shortage="52000")

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {_note(draft)}
    assert len(_values(draft, "shortage")) == 1


def test_a_bad_figure_is_refused_at_its_field_and_nothing_is_saved(client, draft):
    before = _values(draft, "standard"), _values(draft, "shortage")

    response = _post(
        client, draft, standard="52000", shortage="lots", **{"shortage note": "Approval."}
    )

    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {
        f"gate_{draft.requirements.get(pathway='shortage').pk}"
    }
    assert (_values(draft, "standard"), _values(draft, "shortage")) == before


def test_a_home_page_source_and_a_future_as_of_date_are_refused(client, draft):
    response = client.post(
        reverse("admin:eligibility_route_figures", args=[draft.pk]),
        {
            "effective_from": "2027-01-01",
            "source_title": "Gazette",
            "source_url": "https://example.org/",
            "source_as_of": "2099-01-01",
            f"gate_{draft.requirements.get(pathway='standard').pk}": "52000",
        },
    )

    assert set(response.context["form"].errors) == {"source_url", "source_as_of"}


def test_figures_are_never_written_to_a_published_route(client, draft):
    published = draft.draft_of

    response = client.post(reverse("admin:eligibility_route_figures", args=[published.pk]), {})

    assert response.status_code == 302
    assert not RequirementValue.objects.filter(
        requirement__route=published, effective_from=NEW_YEAR, certainty="settled"
    ).exists()


def test_the_page_lists_the_gates_that_check_numbers_unless_every_gate_is_asked(client, draft):
    RequirementFactory(
        route=draft, question=Question.objects.get(key="job_offer_country"), operator="eq"
    )
    url = reverse("admin:eligibility_route_figures", args=[draft.pk])

    numbers = client.get(url).context["form"].rows
    every = client.get(url, {"every_gate": "1"}).context["form"].rows

    assert [row.gate.question.key for row in numbers] == ["offered_salary", "offered_salary"]
    assert len(every) == 3
