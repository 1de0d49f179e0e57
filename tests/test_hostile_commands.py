"""Management commands given hostile input (huge numbers, deep nesting, dates at the ends of the
calendar) say what is wrong in one line on standard error and exit with status 2: never a
traceback, never a crash (issue 14, row 11). And `import_routes` says who imported the rules
(row 7)."""

from __future__ import annotations

import datetime as dt
import getpass
import io
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from eligibility.advisers.drafts import draft_edits
from eligibility.catalogue import export_catalogue
from eligibility.models import Route
from tests.factories import adviser_user, blue_card

ROOT = Path(__file__).resolve().parent.parent

Manage = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def catalogue_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file, migrated and holding the shipped catalogue, made once."""
    path = tmp_path_factory.mktemp("hostile") / "catalogue.sqlite3"
    for command in (["migrate"], ["import_routes"]):
        done = _manage(path, *command)
        assert done.returncode == 0, done.stderr
    return path


def _manage(
    database: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "USER"}}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run(
        [sys.executable, "manage.py", *args, "-v", "0"],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def manage(catalogue_database: Path, tmp_path: Path) -> Manage:
    """`manage.py ARGS` in another process, on a copy of the catalogue database."""
    database = tmp_path / "db.sqlite3"
    shutil.copy(catalogue_database, database)

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return _manage(database, *args, stdin=stdin)

    return run


def refused(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """The one line a refused command printed (status 2, no traceback), which names the
    problem in `words`."""
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    for word in words:
        assert word in lines[0]
    return lines[0]


def written(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


ROUTE = """\
routes:
- slug: hostile
  country: DE
  name: Hostile
  official_url: https://example.org/hostile
  currency: EUR
  last_verified_on: 2026-11-28
  last_verified_by: A test
"""
DEEP_JSON = "[" * 100_000 + "]" * 100_000
LONG_NUMBER = "9" * 5000


# --- assess --------------------------------------------------------------------------------


def test_answers_nested_100000_deep_are_refused_in_one_line(manage, tmp_path):
    path = written(tmp_path, "deep.json", '{"citizenship": ' + DEEP_JSON + "}")
    refused(manage("assess", path), "deep.json", "nested")


def test_a_5000_digit_integer_in_assess_answers_gives_one_line_and_exit_status_2(manage, tmp_path):
    path = written(tmp_path, "long.json", '{"age": ' + LONG_NUMBER + "}")
    refused(manage("assess", path), "long.json", "digits")


def test_answers_on_standard_input_are_refused_in_one_line_too(manage):
    refused(manage("assess", "-", stdin=DEEP_JSON), "standard input", "nested")


@pytest.mark.parametrize("on", ["99999-01-01", "2026-02-30", "0000-01-01"])
def test_an_evaluation_date_off_the_calendar_is_refused_in_one_line(manage, tmp_path, on):
    path = written(tmp_path, "answers.json", '{"citizenship": "IN"}')
    refused(manage("assess", path, "--on", on), "--on", on)


@pytest.mark.parametrize("on", ["0001-01-01", "9999-12-31"])
def test_answers_are_assessed_on_the_first_and_last_days_of_the_calendar(manage, tmp_path, on):
    path = written(tmp_path, "answers.json", '{"citizenship": "IN", "graduation_year": 2024}')
    done = manage("assess", path, "--on", on)
    assert (done.returncode, done.stderr) == (0, "")
    assert "EU Blue Card" in done.stdout


# --- Numbers of days -------------------------------------------------------------------------


@pytest.mark.parametrize("days", ["1000000000", "999999999", "36501", LONG_NUMBER, "-1", "ten"])
def test_purge_assessments_refuses_a_number_of_days_out_of_range_in_one_line(manage, days):
    refused(manage("purge_assessments", "--older-than", days), "--older-than", "36,500")


@pytest.mark.parametrize("days", ["3000000", str(2**31), LONG_NUMBER, "-1", "a year"])
def test_review_digest_refuses_stale_days_out_of_range_in_one_line(manage, days):
    refused(manage("review_digest", "--stale-days", days), "--stale-days", "36,500")


def test_purge_assessments_takes_a_hundred_years(manage):
    done = manage("purge_assessments", "--older-than", "36500")
    assert (done.returncode, done.stderr) == (0, "")
    assert "Deleted 0 assessments older than 36500 days." in done.stdout


@pytest.mark.parametrize(
    ("command", "on", "said"),
    [
        ("review_digest", "0001-01-01", "Route Finder review digest, 01 Jan 1\n"),
        ("review_digest", "9999-12-31", "Route Finder review digest, 31 Dec 9999\n"),
        ("check_catalogue", "9999-12-31", "(checked on 9999-12-31)"),
        ("check_catalogue", "0001-01-01", "(checked on 0001-01-01)"),
    ],
)
def test_commands_run_on_the_first_and_last_days_of_the_calendar(manage, command, on, said):
    done = manage(command, "--on", on)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert done.stderr == ""
    assert said in done.stdout


# --- import_routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("questions: " + "[" * 100_000 + "]" * 100_000, ["nested"], id="deep list"),
        pytest.param("a: " + "{b: " * 50_000 + "1" + "}" * 50_000, ["nested"], id="deep map"),
        pytest.param(
            f"questions:\n- key: extra\n  order: {LONG_NUMBER}\n", ["digits"], id="long number"
        ),
        pytest.param(
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "scenarios:\n- {name: bomb, on: 2026-06-01, answers: {citizenship: *b}}\n",
            ["alias"],
            id="aliases",
        ),
        pytest.param("questions: 5\n", ["questions"], id="questions not a list"),
        pytest.param("questions:\n- 5\n", ["question 1"], id="a question not a mapping"),
        pytest.param("routes:\n- [slug, x]\n", ["route 1"], id="a route not a mapping"),
        pytest.param(ROUTE + "  requirements: 5\n", ["route 1", "requirements"], id="rows"),
        pytest.param("scenarios: {a: 1}\n", ["scenarios"], id="scenarios not a list"),
        pytest.param(
            "questions:\n- {key: extra, label: Extra?, section: Extra, kind: integer, "
            "min_value: abc}\n",
            ["question 1", "a number does not read"],
            id="a word for a number",
        ),
        pytest.param(
            "questions:\n- {key: extra, label: Extra?, section: Extra, kind: choice, choices: 5}\n",
            ["question 1", "Write choices as [value, label] pairs"],
            id="choices not a list",
        ),
        pytest.param(
            ROUTE + "  requirements:\n  - {question: [age], operator: gte}\n",
            ["route 1", "requirement 1", "no question"],
            id="a list for a question key",
        ),
        pytest.param(
            "scenarios:\n- {name: bomb, on: 2026-06-01, answers: {}}\n",
            ["scenario 1", "quotes"],
            id="a bare on",
        ),
        pytest.param(
            ROUTE + "  key_facts:\n  - {topic: fees, text: €75, source: 5}\n",
            ["route 1", "source"],
            id="source not a mapping",
        ),
    ],
)
def test_import_routes_refuses_a_hostile_catalogue_in_one_line_and_loads_nothing(
    manage, tmp_path, text, words
):
    path = written(tmp_path, "hostile.yaml", text)
    line = refused(manage("import_routes", path), "Nothing was loaded", *words)
    assert len(line) < 400
    done = manage("export_routes")
    for loaded in ("name: bomb", "key: extra\n", "slug: hostile"):
        assert loaded not in done.stdout


# --- Who imported the rules (issue 14, row 7) -------------------------------------------------


@pytest.fixture
def catalogue_file(db, tmp_path) -> Path:
    """The small Blue Card, exported: importing it with --replace rewrites its rows."""
    blue_card()
    path = tmp_path / "catalogue.yaml"
    path.write_text(export_catalogue(), encoding="utf-8")
    return path


def import_entries(started: dt.datetime) -> list[LogEntry]:
    """The audit log's entries for the Blue Card's rows since `started`."""
    route = Route.objects.get(slug="de-blue-card")
    entries = LogEntry.objects.filter(additional_data__route_id=route.pk, timestamp__gte=started)
    return list(entries.select_related("actor"))


def test_an_import_with_actor_is_logged_under_that_adviser(catalogue_file):
    ada = adviser_user("ada")
    started = timezone.now()
    call_command(
        "import_routes", str(catalogue_file), "--replace", "--actor", "ada", stdout=io.StringIO()
    )
    entries = import_entries(started)
    assert len(entries) >= 5  # the route, its gates, values, key fact and open question
    assert {entry.actor for entry in entries} == {ada}


def test_an_import_without_actor_is_logged_under_the_operating_system_user(catalogue_file):
    started = timezone.now()
    call_command("import_routes", str(catalogue_file), "--replace", stdout=io.StringIO())
    entries = import_entries(started)
    assert entries
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    assert {(entry.actor, entry.actor_email) for entry in entries} == {(None, who)}


def test_the_log_entries_page_and_a_drafts_history_name_the_operating_system_user(
    catalogue_file, client
):
    call_command("import_routes", str(catalogue_file), "--replace", stdout=io.StringIO())
    client.force_login(User.objects.create_superuser("root", password="a-long-passphrase"))
    page = client.get(reverse("admin:auditlog_logentry_changelist")).content.decode()
    assert f"{getpass.getuser()}@{socket.gethostname()}" in page
    edits = draft_edits(Route.objects.get(slug="de-blue-card"))
    assert edits[0].actor == f"{getpass.getuser()}@{socket.gethostname()}"


def test_an_import_with_an_unknown_actor_is_refused_in_one_line_and_loads_nothing(
    catalogue_file, manage, tmp_path
):
    path = written(tmp_path, "new.yaml", ROUTE)
    line = refused(manage("import_routes", path, "--actor", "nobody"), "nobody")
    assert "Nothing was loaded" in line
    assert "slug: hostile" not in manage("export_routes").stdout
