"""import_routes and export_routes: natural keys, exact round trips, advisers' edits kept."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from eligibility.catalogue import CatalogueError, export_catalogue, import_catalogue
from eligibility.models import Question, Requirement, RequirementValue, Route

pytestmark = pytest.mark.django_db

SMALL = """\
routes:
- slug: de-blue-card
  country: DE
  name: EU Blue Card
  status: published
  currency: EUR
  last_verified_on: 2026-11-28
  last_verified_by: Fact sheet
  opens_on: 2012-08-01
  key_facts:
  - topic: fees
    text: National visa €75.
    unclear: false
    source: {title: visaatlas.org, url: 'https://visaatlas.org/fees', as_of: 2026-04-01}
  requirements:
  - question: job_offer_country
    operator: eq
    values:
    - value: DE
      source: {title: jig.world, url: 'https://example.org/jig-world', as_of: 2025-01-01}
  - pathway: Recent graduate
    question: graduation_year
    operator: gte
    explanation: Counted from the month you graduated.
    values:
    - value: {years_before: 3}
      source: {title: siegconsultancy.com, url: 'https://example.org/sieg', as_of: 2024-01-01}
  - pathway: Recent graduate
    question: offered_salary
    operator: gte
    values:
    - value: 43759.8
      effective_from: 2025-01-01
      effective_until: 2025-12-31
      source: {title: yudey.cz, url: 'https://example.org/yudey-cz', as_of: 2025-01-01}
    - value: 45934.2
      effective_from: 2026-01-01
      effective_until: 2026-12-31
      source:
        title: yudey.cz
        url: https://yudey.cz/blue-card
        as_of: 2026-01-01
        as_of_approximate: true
    - value: null
      certainty: unclear
      effective_from: 2027-01-01
      note: The threshold for 2027 is not published yet.
      source: {title: yudey.cz, url: 'https://example.org/yudey-cz', as_of: 2026-01-01}
  open_questions:
  - topic: Settlement
    text: 27 or 21 months?
    show_if: [{question: current_country, operator: ne, value: DE}]
    source: {title: jaberilawyers.com, url: 'https://example.org/jaberi', as_of: 2024-12-01}
"""


def the_2026_threshold() -> RequirementValue:
    return RequirementValue.objects.get(
        requirement__question__key="offered_salary", effective_from=dt.date(2026, 1, 1)
    )


def test_an_export_imports_into_an_empty_database_and_exports_identically():
    import_catalogue(SMALL)
    first = export_catalogue()
    assert "opens_on: 2012-08-01" in first
    assert "as_of_approximate: true" in first
    assert "explanation: Counted from the month you graduated." in first
    Route.objects.all().delete()
    import_catalogue(first)
    assert export_catalogue() == first
    assert [
        (v.value, v.certainty, v.effective_from, v.effective_until)
        for v in RequirementValue.objects.filter(requirement__question__key="offered_salary")
    ] == [
        (43759.8, "settled", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        (45934.2, "settled", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        (None, "unclear", dt.date(2027, 1, 1), None),
    ]


def test_loading_again_keeps_an_advisers_edit_and_says_what_it_skipped():
    import_catalogue(SMALL)
    edited = the_2026_threshold()
    edited.value = 46000
    edited.save()
    report = import_catalogue(SMALL)
    assert report.routes_skipped == ["de-blue-card"]
    assert Route.objects.count() == 1
    assert Requirement.objects.count() == 3
    assert RequirementValue.objects.count() == 5
    assert the_2026_threshold().value == 46000


def test_the_command_reports_skipped_routes(tmp_path):
    path = tmp_path / "routes.yaml"
    path.write_text(SMALL)
    call_command("import_routes", str(path), stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_routes", str(path), stdout=out)
    assert (
        "Skipped 1 route(s) that already exist (kept as they are): de-blue-card." in out.getvalue()
    )


def test_the_command_tells_an_unchanged_route_from_an_edited_one(tmp_path):
    path = tmp_path / "routes.yaml"
    import_catalogue(SMALL)
    path.write_text(export_catalogue())
    out = io.StringIO()
    call_command("import_routes", str(path), stdout=out)
    assert "differ from the file" not in out.getvalue()
    edited = the_2026_threshold()
    edited.value = 46000
    edited.save()
    out = io.StringIO()
    call_command("import_routes", str(path), stdout=out)
    assert (
        "Of these, 1 differ from the file (edited since, or loaded from another file): "
        "de-blue-card. Use --replace to load the file's version." in out.getvalue()
    )


def test_replace_overwrites_a_route_of_the_same_slug():
    import_catalogue(SMALL)
    report = import_catalogue(SMALL.replace("EU Blue Card", "Blue Card"), replace=True)
    assert report.routes_replaced == ["de-blue-card"]
    assert Route.objects.get().name == "Blue Card"


JIG = "{title: jig.world, url: 'https://example.org/jig-world', as_of: 2025-01-01}"
OVERLAPPING = (
    "      effective_until: 2025-12-31\n",
    "      effective_until: 2026-03-31\n",
)
UNDATED_TWICE = (
    f"    - value: DE\n      source: {JIG}\n",
    f"    - value: DE\n      source: {JIG}\n    - value: FR\n      source: {JIG}\n",
)
NO_VALUES = (
    f"    values:\n    - value: DE\n      source: {JIG}\n",
    "    values: []\n",
)
NO_VALUES_FIELD = (
    f"    values:\n    - value: DE\n      source: {JIG}\n",
    "",
)
UNCLEAR_WITHOUT_NOTE = ("      note: The threshold for 2027 is not published yet.\n", "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    - value: DE\n", "    - value: Germany\n"),
            "route 1 (de-blue-card), requirement 1, value 1: value:",
        ),
        (
            ("value: 45934.2", "value: abc"),
            "route 1 (de-blue-card), requirement 3, value 2: value:",
        ),
        (("question: job_offer_country", "question: salary"), "no question has the key “salary”"),
        (
            ("jig-world', as_of: 2025-01-01}", "jig-world', as_of: soon}"),
            "route 1 (de-blue-card), requirement 1, value 1: “soon” is not a date",
        ),
        (("operator: eq", "operator: about"), "route 1 (de-blue-card), requirement 1: operator:"),
        (("  currency: EUR\n", "  currency: EUR\n  colour: blue\n"), "unknown field(s) colour"),
        (
            ("      effective_from: 2025", "      colour: blue\n      effective_from: 2025"),
            "requirement 3, value 1: unknown field(s) colour",
        ),
        (
            OVERLAPPING,
            "route 1 (de-blue-card), requirement 3: two values are in force on 2026-01-01.",
        ),
        (
            UNDATED_TWICE,
            "route 1 (de-blue-card), requirement 1: two values are in force from the start.",
        ),
        (NO_VALUES, "route 1 (de-blue-card), requirement 1: a requirement needs at least one"),
        (NO_VALUES_FIELD, "route 1 (de-blue-card), requirement 1: a requirement needs at least"),
        (UNCLEAR_WITHOUT_NOTE, "route 1 (de-blue-card), requirement 3, value 3: note:"),
        (
            (
                "  - question: job_offer_country\n",
                "  - question: job_offer_country\n"
                "    applies_if: [{question: salary, operator: eq, value: 1}]\n",
            ),
            "route 1 (de-blue-card), requirement 1: applies_if:",
        ),
        (
            ("url: 'https://example.org/jig-world'", "url: 'https://jig.world/'"),
            "requirement 1, value 1: source_url: This is a site's home page",
        ),
        (
            ("Counted from the month", "Counted within 3 years from the month"),
            "route 1 (de-blue-card), requirement 2: explanation:",
        ),
        (
            ("  opens_on: 2012-08-01", "  opens_on: 2012-08-01\n  closes_on: 2011-01-01"),
            "route 1 (de-blue-card): closes_on: The route closes before it opens.",
        ),
    ],
)
def test_a_bad_catalogue_loads_nothing_and_names_the_place(change, message):
    assert SMALL.count(change[0]) == 1, change[0]
    with pytest.raises(CatalogueError) as caught:
        import_catalogue(SMALL.replace(*change))
    assert message in str(caught.value)
    assert not Route.objects.exists()
    assert not Requirement.objects.exists()
    assert not RequirementValue.objects.exists()


ASKED_IF = """\
questions:
- key: de_recognised
  label: Is your degree recognised in Germany?
  kind: boolean
  section: Education
  order: 400
  ask_if: [{question: %s, operator: eq, value: %s}]
%s"""
LATER_QUESTION = """\
- key: de_offer_kind
  label: What kind of job is offered?
  kind: choice
  choices: [[it, IT], [other, Other]]
  section: Work
  order: 410
"""


def test_an_ask_if_value_that_does_not_parse_for_its_question_is_refused_and_nothing_loads():
    text = ASKED_IF % ("job_offer_country", "Germany", "") + SMALL
    with pytest.raises(CatalogueError) as caught:
        import_catalogue(text)
    assert "question 1 (de_recognised): ask_if:" in str(caught.value)
    assert not Question.objects.filter(key="de_recognised").exists()
    assert not Route.objects.exists()


def test_an_ask_if_may_name_a_question_further_down_the_file():
    report = import_catalogue(ASKED_IF % ("de_offer_kind", "it", LATER_QUESTION))
    assert report.questions_created == ["de_recognised", "de_offer_kind"]
    assert Question.objects.get(key="de_recognised").ask_if == [
        {"question": "de_offer_kind", "operator": "eq", "value": "it"}
    ]


def test_an_ask_if_naming_a_later_question_with_a_value_it_does_not_take_is_refused():
    with pytest.raises(CatalogueError) as caught:
        import_catalogue(ASKED_IF % ("de_offer_kind", "finance", LATER_QUESTION))
    assert "question 1 (de_recognised): ask_if:" in str(caught.value)
    assert not Question.objects.filter(key__in=["de_recognised", "de_offer_kind"]).exists()


def test_a_month_question_may_come_further_down_the_file():
    text = """\
questions:
- key: de_start_year
  label: In which year did you start?
  kind: integer
  section: Work
  order: 420
  month_question: de_start_month
- key: de_start_month
  label: In which month did you start?
  kind: choice
  choices: [['1', January], ['2', February]]
  section: Work
  order: 421
"""
    import_catalogue(text)
    assert Question.objects.get(key="de_start_year").month_question == "de_start_month"
    with pytest.raises(CatalogueError, match=r"question 1 \(de_other_year\): month_question:"):
        import_catalogue(
            text.replace("de_start_year", "de_other_year")
            .replace("de_start_month", "de_nothing")
            .replace("- key: de_nothing", "- key: de_other_month")
        )
    assert not Question.objects.filter(key__in=["de_other_year", "de_other_month"]).exists()


def test_the_command_turns_a_bad_catalogue_into_status_2(tmp_path):
    path = tmp_path / "routes.yaml"
    path.write_text("routes: [")
    with pytest.raises(CommandError, match=r"Nothing was loaded\. The catalogue is not valid YAML"):
        call_command("import_routes", str(path))


def test_export_routes_writes_a_file(tmp_path):
    import_catalogue(SMALL)
    target = tmp_path / "out.yaml"
    call_command("export_routes", "--output", str(target))
    assert target.read_text(encoding="utf-8") == export_catalogue()
    assert "slug: de-blue-card" in target.read_text(encoding="utf-8")
