"""Benchmark: what reviewing a draft costs on the real catalogue. Not a test: run it with
`make bench-drafts`. Times opening a draft of the largest route, its impact report (every
scenario and N saved assessments, before and after), publishing it, and saving a 300-gate
route page through the admin, each against a floor measured in the same run (loading the
published rules once).

    .venv/bin/python bench/drafts_bench.py [--runs 5] [--assessments 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="drafts-bench-"))
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "eligibility.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Count  # noqa: E402

from eligibility.advisers import drafts  # noqa: E402
from eligibility.models import Answer, Assessment, Route  # noqa: E402
from eligibility.rules import load_rulebook  # noqa: E402


def timed(work: Callable[[], object], runs: int) -> float:
    """Median seconds of `runs` runs, each rolled back so every run starts the same."""
    seconds = []
    for _ in range(runs):
        with transaction.atomic():
            start = time.perf_counter()
            work()
            seconds.append(time.perf_counter() - start)
            transaction.set_rollback(True)
    return statistics.median(seconds)


def saved_assessments(count: int) -> None:
    """Applicants' answers spread over the questions every route asks about."""
    rng = random.Random(7)
    for _ in range(count):
        assessment = Assessment.objects.create()
        Answer.objects.bulk_create(
            [
                Answer(assessment=assessment, question_key="citizenship", value=["IN"]),
                Answer(assessment=assessment, question_key="age", value=rng.randint(20, 50)),
                Answer(
                    assessment=assessment,
                    question_key="education_level",
                    value=rng.choice(["bachelor", "master", "doctorate"]),
                ),
                Answer(
                    assessment=assessment,
                    question_key="job_offer_country",
                    value=rng.choice(["DE", "US", "none"]),
                ),
                Answer(
                    assessment=assessment,
                    question_key="offered_salary",
                    value=rng.randrange(30000, 90000, 500),
                ),
            ]
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--assessments", type=int, default=10000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("import_routes", verbosity=0)
    ada = User.objects.create_user("ada", is_staff=True)
    bea = User.objects.create_user("bea", is_staff=True)
    ada.groups.add(Group.objects.get(name="Adviser"))
    bea.groups.add(Group.objects.get(name="Adviser"), Group.objects.get(name="Reviewer"))
    bea = User.objects.get(pk=bea.pk)
    largest = Route.objects.annotate(n=Count("requirements")).order_by("-n").first()
    assert largest is not None
    floor = timed(load_rulebook, args.runs)
    rows = [("floor: load the published rules", floor)]
    rows.append(
        (
            "open a draft of " + largest.slug,
            timed(lambda: drafts.open_draft(largest, ada), args.runs),
        )
    )
    draft = drafts.open_draft(largest, ada)
    rows.append(
        ("impact report, 0 saved assessments", timed(lambda: drafts.impact(draft), args.runs))
    )
    saved_assessments(args.assessments)
    rows.append(
        (
            f"impact report, {args.assessments} saved assessments",
            timed(lambda: drafts.impact(draft), args.runs),
        )
    )
    rows.append(("publish (checks included)", timed(lambda: drafts.publish(draft, bea), args.runs)))
    gates = largest.requirements.count()
    print(f"Route {largest.slug}: {gates} gates; {args.runs} runs each, median.")
    print(f"{'what':48} {'seconds':>9} {'× floor':>8}")
    for name, seconds in rows:
        print(f"{name:48} {seconds:9.3f} {seconds / floor:8.1f}")


if __name__ == "__main__":
    main()
