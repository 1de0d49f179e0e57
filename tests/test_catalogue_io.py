"""import_routes and export_routes: natural keys, exact round trips, advisers' edits kept."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from eligibility.catalogue import CatalogueError, export_catalogue, import_catalogue
from eligibility.models import Requirement, Route

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
  key_facts:
  - topic: fees
    text: National visa €75.
    unclear: false
    source: {title: visaatlas.org, url: 'https://visaatlas.org', as_of: 2026-04-01}
  requirements:
  - question: job_offer_country
    operator: eq
    value: DE
    source: {title: jig.world, as_of: 2025-01-01}
  - pathway: Recent graduate
    question: graduation_year
    operator: gte
    value: {years_before: 3}
    source: {title: siegconsultancy.com, as_of: 2024-01-01}
  - pathway: Recent graduate
    question: offered_salary
    operator: gte
    value: 45934.2
    effective_from: 2026-01-01
    source: {title: yudey.cz, as_of: 2026-01-01}
  open_questions:
  - topic: Settlement
    text: 27 or 21 months?
    show_if: [{question: current_country, operator: ne, value: DE}]
    source: {title: jaberilawyers.com, as_of: 2024-12-01}
"""


def test_an_export_imports_into_an_empty_database_and_exports_identically():
    import_catalogue(SMALL)
    first = export_catalogue()
    Route.objects.all().delete()
    import_catalogue(first)
    assert export_catalogue() == first


def test_loading_again_keeps_an_advisers_edit_and_says_what_it_skipped():
    import_catalogue(SMALL)
    edited = Requirement.objects.get(question__key="offered_salary")
    edited.value = 46000
    edited.save()
    report = import_catalogue(SMALL)
    assert report.routes_skipped == ["de-blue-card"]
    assert Route.objects.count() == 1
    assert Requirement.objects.count() == 3
    assert Requirement.objects.get(question__key="offered_salary").value == 46000


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
    edited = Requirement.objects.get(question__key="offered_salary")
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


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("value: DE", "value: Germany"), "route 1 (de-blue-card), requirement 1: value:"),
        (("question: job_offer_country", "question: salary"), "no question has the key “salary”"),
        (("as_of: 2025-01-01", "as_of: soon"), "“soon” is not a date"),
        (("operator: eq", "operator: about"), "requirement 1: operator:"),
        (("  currency: EUR\n", "  currency: EUR\n  colour: blue\n"), "unknown field(s) colour"),
    ],
)
def test_a_bad_catalogue_loads_nothing_and_names_the_place(change, message):
    with pytest.raises(CatalogueError) as caught:
        import_catalogue(SMALL.replace(*change))
    assert message in str(caught.value)
    assert not Route.objects.exists()


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
