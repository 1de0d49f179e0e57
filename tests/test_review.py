"""The review queue: advisers see what is overdue, old, waiting or failing, mark drafts verified
as themselves, and get the same lists by e-mail each week (`manage.py review_digest`)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from eligibility.models import OpenQuestion, Route, RouteRevision, Scenario, ScenarioExpectation
from tests.factories import (
    KeyFactFactory,
    OpenQuestionFactory,
    RequirementFactory,
    RouteFactory,
    adviser_user,
    blue_card,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
DIGEST_DAY = dt.date(2027, 3, 1)


@pytest.fixture
def adviser(client):
    user = adviser_user(first_name="Ada", last_name="Lovelace", email="ada@example.org")
    client.force_login(user)
    return user


def verified(days_ago: int, *, every: int = 90, **fields: object) -> Route:
    """A route last verified `days_ago` days before today, reviewed every `every` days."""
    return RouteFactory(
        last_verified_on=TODAY() - dt.timedelta(days=days_ago),
        review_interval_days=every,
        **fields,
    )


def draft_of(route: Route, drafted_by: User | None = None, **fields: object) -> Route:
    return RouteFactory(
        slug=f"{route.slug}-draft",
        name=route.name,
        status=Route.Status.DRAFT,
        draft_of=route,
        drafted_by=drafted_by,
        **fields,
    )


def dashboard(client):
    return client.get(reverse("admin:eligibility_route_review"))


def mark_verified(client, *routes: Route):
    return client.post(
        reverse("admin:eligibility_route_changelist"),
        {"action": "mark_verified_today", "_selected_action": [r.pk for r in routes]},
        follow=True,
    )


def shown_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def section(response, caption: str) -> str:
    """The HTML of the dashboard table whose caption starts with `caption`."""
    html = response.text
    start = html.index(f"<caption>{caption}")
    return html[start : html.index("</table>", start)]


@pytest.fixture
def outbox(mailoutbox, settings):
    """Sent mail, through a MAILERS setting (Django 6.1 warns when sending without one)."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    return mailoutbox


def digest(*args: str) -> str:
    out = io.StringIO()
    call_command("review_digest", *args, stdout=out)
    return out.getvalue()


def scenario_expecting(route: Route, verdict: str, name: str = "Indian engineer") -> Scenario:
    """An engineer from India with a €52,000 offer in Germany (the Blue Card fits)."""
    scenario = Scenario.objects.create(
        name=name,
        on=dt.date(2026, 6, 1),
        answers={"citizenship": "IN", "job_offer_country": "DE", "offered_salary": 52000},
    )
    ScenarioExpectation.objects.create(scenario=scenario, route=route, verdict=verdict)
    return scenario


# --- Marking routes verified -----------------------------------------------------------------


def test_marking_a_draft_verified_records_the_signed_in_adviser_and_today(client, adviser):
    draft = draft_of(verified(400), last_verified_by="Somebody typed this")
    response = mark_verified(client, draft)
    draft.refresh_from_db()
    assert (draft.last_verified_on, draft.last_verified_by) == (TODAY(), "Ada Lovelace")
    assert shown_messages(response) == [f"Marked 1 route verified today by Ada Lovelace: {draft}."]


def test_an_adviser_without_a_full_name_is_recorded_by_username(client):
    client.force_login(adviser_user("grace"))
    new_route = RouteFactory(status=Route.Status.DRAFT, last_verified_by="")
    mark_verified(client, new_route)
    new_route.refresh_from_db()
    assert new_route.last_verified_by == "grace"


def test_marking_verified_is_in_the_audit_log_under_the_adviser(client, adviser):
    draft = draft_of(verified(400))
    mark_verified(client, draft)
    entry = LogEntry.objects.get_for_object(draft).latest("timestamp")
    assert entry.actor == adviser
    assert entry.changes_dict["last_verified_by"][1] == "Ada Lovelace"


def test_a_published_route_and_its_open_draft_are_both_marked_verified(client, adviser):
    published = verified(400, name="EU Blue Card", country="DE")
    draft = draft_of(published)
    other = verified(400, slug="nz-smc", name="Skilled Migrant", country="NZ")

    response = mark_verified(client, published)

    for route in (published, draft, other):
        route.refresh_from_db()
    assert (published.last_verified_on, draft.last_verified_on) == (TODAY(), TODAY())
    assert other.last_verified_on == TODAY() - dt.timedelta(days=400)
    assert shown_messages(response) == [
        "Marked 1 route verified today by Ada Lovelace: EU Blue Card (DE)."
    ]


def test_the_verifier_cannot_be_typed_on_the_route_page(client, adviser):
    draft = draft_of(verified(10))
    page = client.get(reverse("admin:eligibility_route_change", args=[draft.pk]))
    assert 'name="last_verified_by"' not in page.text
    assert 'name="last_verified_on"' in page.text


# --- The review filter -----------------------------------------------------------------------


def test_the_review_filter_comes_before_the_status_and_country_filters(client, adviser):
    response = client.get(reverse("admin:eligibility_route_changelist"))
    titles = [spec.title for spec in response.context["cl"].filter_specs]
    assert titles[:3] == ["review", "status", "country"]


def test_the_review_filter_splits_routes_on_their_due_date(client, adviser):
    verified(90, name="Due today")
    verified(91, name="Due yesterday")
    verified(30, every=7, name="Weekly, checked a month ago")
    changelist = reverse("admin:eligibility_route_changelist")

    def listed(review: str) -> set[str]:
        response = client.get(changelist, {"review": review})
        return {route.name for route in response.context["cl"].result_list}

    assert listed("overdue") == {"Due yesterday", "Weekly, checked a month ago"}
    assert listed("current") == {"Due today"}


# --- The dashboard ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = dashboard(client)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_a_signed_in_user_who_is_not_staff_is_sent_to_the_login_page(client):
    client.force_login(User.objects.create_user("applicant", password="a-long-passphrase"))
    response = dashboard(client)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_without_access_to_routes_are_refused(client):
    client.force_login(User.objects.create_user("it", password="a-long-passphrase", is_staff=True))
    assert dashboard(client).status_code == 403


def test_the_dashboard_has_a_heading_and_captioned_tables(client, adviser):
    verified(400)
    response = dashboard(client)
    assert response.status_code == 200
    assert "<h1>Review queue</h1>" in response.text
    content = response.text[response.text.index('<div id="content-main">') :]
    assert content.count("<caption>") == 4
    assert '<th scope="col">Review due</th>' in response.text


def test_overdue_routes_are_listed_most_overdue_first_with_a_link(client, adviser):
    a_week = verified(97, name="A week overdue")
    a_year = verified(455, name="A year overdue")
    verified(10, name="Checked last week")
    overdue = section(dashboard(client), "Overdue for review")
    assert overdue.index("A year overdue") < overdue.index("A week overdue")
    assert "Checked last week" not in overdue
    assert reverse("admin:eligibility_route_change", args=[a_year.pk]) in overdue
    due = a_week.review_due_on
    assert f"{due.day} {due:%b %Y}" in overdue
    assert "7 days" in overdue


def test_a_route_due_today_is_not_overdue_and_one_due_yesterday_is(client, adviser):
    verified(90, name="Due today")
    verified(91, name="Due yesterday")
    overdue = section(dashboard(client), "Overdue for review")
    assert "Due yesterday" in overdue
    assert "Due today" not in overdue


def test_an_overdue_route_with_a_draft_links_the_draft(client, adviser):
    draft = draft_of(verified(400))
    overdue = section(dashboard(client), "Overdue for review")
    assert reverse("admin:eligibility_route_change", args=[draft.pk]) in overdue


def test_drafts_waiting_show_who_drafted_them_and_why(client, adviser):
    published = verified(10, name="EU Blue Card", country="DE")
    draft_of(published, drafted_by=adviser, change_note="2027 salary thresholds")
    RouteFactory(status=Route.Status.DRAFT, name="Golden Visa", country="PT")
    verified(10, name="Settled route")
    drafts = section(dashboard(client), "Drafts awaiting review")
    assert "Drafts awaiting review: 2" in drafts
    assert "Ada Lovelace" in drafts
    assert "2027 salary thresholds" in drafts
    assert "Golden Visa (PT)" in drafts
    assert "A new route" in drafts
    assert "Settled route" not in drafts


def test_a_withdrawn_route_waits_for_review_only_once_it_is_edited(client, adviser):
    withdrawn = RouteFactory(status=Route.Status.DRAFT, name="Withdrawn route")
    RouteRevision.objects.create(route=withdrawn, number=1, snapshot={})
    assert "Withdrawn route" not in section(dashboard(client), "Drafts awaiting review")
    withdrawn.change_note = "Back, with the 2027 fees"
    withdrawn.save()
    drafts = section(dashboard(client), "Drafts awaiting review")
    assert "Withdrawn route" in drafts
    assert "Itself, withdrawn: publishing puts it back on the site" in drafts


def test_sources_are_listed_oldest_first_with_their_age(client, adviser):
    route = RouteFactory(name="EU Blue Card", country="DE")
    RequirementFactory(
        route=route, source_title="Gazette 2024", source_as_of=TODAY() - dt.timedelta(days=700)
    )
    KeyFactFactory(
        route=route, source_title="Fees page", source_as_of=TODAY() - dt.timedelta(days=30)
    )
    OpenQuestionFactory(
        route=route,
        source_title="Ministry FAQ",
        source_url="https://example.org/faq",
        source_as_of=TODAY() - dt.timedelta(days=200),
    )
    sources = section(dashboard(client), "Sources by age")
    assert (
        sources.index("Gazette 2024") < sources.index("Ministry FAQ") < sources.index("Fees page")
    )
    assert "700 days" in sources
    assert "Gate: age" in sources
    assert "Key fact: Fees" in sources
    assert "Open question: Timing" in sources
    assert 'href="https://example.org/faq"' in sources


def test_only_the_oldest_fifty_sources_are_listed_and_all_are_counted(client, adviser):
    route = RouteFactory()
    OpenQuestion.objects.bulk_create(
        OpenQuestion(
            route=route,
            topic=f"Question {n}",
            text="?",
            source_title=f"Source {n}",
            source_url="https://example.org/source",
            source_as_of=TODAY() - dt.timedelta(days=n),
        )
        for n in range(1, 53)
    )
    sources = section(dashboard(client), "Sources by age")
    assert "the 50 oldest of 52" in sources
    assert "Source 52<" in sources
    assert "Source 2<" not in sources


def test_the_sources_of_drafts_are_left_to_the_draft(client, adviser):
    KeyFactFactory(route=RouteFactory(status=Route.Status.DRAFT), source_title="Draft's source")
    assert "Draft's source" not in section(dashboard(client), "Sources by age")


def test_failing_scenarios_are_listed_with_what_is_wrong(client, adviser):
    route = blue_card()
    wrong = scenario_expecting(route, "does_not_fit", name="Wrongly hopeless")
    scenario_expecting(route, "fits", name="Rightly hopeful")
    failing = section(dashboard(client), "Failing scenarios")
    assert "Failing scenarios: 1" in failing
    assert reverse("admin:eligibility_scenario_change", args=[wrong.pk]) in failing
    assert "Wrongly hopeless" in failing
    assert "expected does not fit, got fits" in failing
    assert "Rightly hopeful" not in failing


def test_the_dashboard_reads_as_many_queries_for_twelve_routes_as_for_two(client, adviser):
    def add_routes(count: int) -> None:
        for _ in range(count):
            route = verified(400)
            RequirementFactory(route=route)
            KeyFactFactory(route=route)
            OpenQuestionFactory(route=route)
            draft_of(route, drafted_by=adviser, change_note="New fees")
            scenario_expecting(route, "does_not_fit", name=f"Scenario {route.slug}")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert dashboard(client).status_code == 200
        return len(captured)

    add_routes(2)
    two = queries()
    add_routes(10)
    assert queries() == two


# --- The weekly digest -----------------------------------------------------------------------


def test_the_digest_lists_a_route_a_day_overdue_but_not_one_due_that_day():
    RouteFactory(name="Due yesterday", slug="late", last_verified_on=dt.date(2026, 11, 30))
    RouteFactory(name="Due today", last_verified_on=dt.date(2026, 12, 1))
    text = digest("--on", DIGEST_DAY.isoformat())
    assert "Overdue for review: 1\n" in text
    assert "- Due yesterday (DE) [late]: due 28 Feb 2027, 1 day overdue" in text
    assert "Due today" not in text


def test_the_digest_lists_sources_older_than_the_stale_days_but_not_those_that_old():
    route = RouteFactory(name="EU Blue Card")
    KeyFactFactory(route=route, source_title="Old fees page", source_as_of=dt.date(2026, 2, 28))
    OpenQuestionFactory(route=route, source_title="Year-old FAQ", source_as_of=dt.date(2026, 3, 1))
    text = digest("--on", DIGEST_DAY.isoformat())
    assert "Sources older than 365 days: 1\n" in text
    assert (
        "- EU Blue Card (DE), key fact Fees: Old fees page, as of 28 Feb 2026 (366 days), "
        "https://example.org/source"
    ) in text
    assert "Year-old FAQ" not in text


def test_stale_days_sets_how_old_a_stale_source_is():
    KeyFactFactory(source_title="Last month's page", source_as_of=dt.date(2027, 1, 15))
    assert "Last month's page" not in digest("--on", DIGEST_DAY.isoformat())
    assert "Last month's page" in digest("--on", DIGEST_DAY.isoformat(), "--stale-days", "30")


def test_the_digest_lists_drafts_waiting_and_says_none_for_empty_lists():
    drafter = adviser_user(first_name="Ada", last_name="Lovelace")
    published = RouteFactory(name="EU Blue Card", slug="de-blue-card", last_verified_on=DIGEST_DAY)
    draft_of(published, drafted_by=drafter, change_note="2027 salary\nthresholds")
    text = digest("--on", DIGEST_DAY.isoformat())
    assert "Overdue for review: none\n" in text
    assert "Sources older than 365 days: none\n" in text
    assert "Drafts awaiting review: 1\n" in text
    assert "(draft of de-blue-card), by Ada Lovelace, last edited" in text
    assert text.rstrip().endswith(": 2027 salary thresholds")


def test_email_sends_the_digest_to_advisers_reviewers_and_superusers(outbox, settings):
    settings.DEFAULT_FROM_EMAIL = "route-finder@example.org"
    adviser_user("ada", email="ada@example.org")
    reviewer = User.objects.create_user("rev", email="rev@example.org", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewer"))
    User.objects.create_superuser("root", email="root@example.org", password="a-long-passphrase")
    adviser_user("gone", email="gone@example.org", is_active=False)
    adviser_user("nomail")
    User.objects.create_user("applicant", email="applicant@example.org")
    RouteFactory(name="Due yesterday", last_verified_on=dt.date(2026, 11, 30))
    out = digest("--email", "--on", DIGEST_DAY.isoformat())
    (mail,) = outbox
    assert sorted(mail.to) == ["ada@example.org", "rev@example.org", "root@example.org"]
    assert mail.from_email == "route-finder@example.org"
    assert mail.subject == "Route Finder review digest, 01 Mar 2027"
    assert "Due yesterday (DE)" in mail.body
    assert out.startswith(mail.body)
    assert out.endswith("Sent the digest to 3 advisers.\n")


def test_email_with_no_adviser_address_is_a_one_line_error_with_status_2(outbox):
    adviser_user("nomail")
    with pytest.raises(CommandError, match="No active adviser") as error:
        digest("--email")
    assert error.value.returncode == 2
    assert "\n" not in str(error.value)
    assert outbox == []


def test_a_negative_stale_days_is_a_usage_error():
    with pytest.raises(CommandError, match="--stale-days must be 0 or more") as error:
        digest("--stale-days", "-1")
    assert error.value.returncode == 2
