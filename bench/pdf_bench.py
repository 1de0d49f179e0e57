"""Benchmark: the results PDF for a profile that touches every catalogue route, against the
smallest WeasyPrint document on the same machine (the floor). Not a test: run it with
`make bench-pdf`. Target: under 1.5 s and under 5x the floor.

Works on a scratch SQLite database in a temporary directory: loads
eligibility/catalogue/routes.yaml when it exists, else builds 13 routes with the test
factories. Prints a table and writes it, with the raw timings, to bench-results/.

    .venv/bin/python bench/pdf_bench.py [--runs 7] [--keep-pdf out.pdf]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="pdf-bench-"))
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "eligibility.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from weasyprint import HTML  # noqa: E402

from eligibility import answers as answer_parsing  # noqa: E402
from eligibility import pdf  # noqa: E402
from eligibility.catalogue import CATALOGUE_PATH  # noqa: E402
from eligibility.engine import Verdict, evaluate_routes  # noqa: E402
from eligibility.rules import load_rulebook  # noqa: E402

ON = dt.date(2026, 11, 28)

# A Master's graduate in India with a German offer: some routes fit, some may fit (the
# "I don't know" answers and unclear rules), some do not.
PROFILE: dict[str, Any] = {
    "age": 29,
    "education_level": "master",
    "stem_field": True,
    "university_rank": "top500",
    "graduation_year": 2024,
    "degree_country": "IN",
    "years_experience": 4,
    "job_offer_country": "DE",
    "offered_salary": 52000,
    "english_level": "C1",
    "german_level": "A2",
    "chinese_level": "none",
    "korean_level": None,
    "japanese_level": "none",
    "current_country": "IN",
    "has_dependants": None,
    "proof_of_funds": True,
}


def build_factory_routes() -> None:
    """Thirteen routes shaped like the catalogue's, when the catalogue is not there yet."""
    from eligibility.models import Question
    from tests.factories import (
        KeyFactFactory,
        OpenQuestionFactory,
        RequirementFactory,
        RouteFactory,
    )

    names = [
        ("cn-k-visa", "CN", "K visa", "K字签证", "CNY"),
        ("us-h1b", "US", "H-1B Specialty Occupation", "", "USD"),
        ("us-o1a", "US", "O-1A Extraordinary Ability", "", "USD"),
        ("de-blue-card", "DE", "EU Blue Card", "", "EUR"),
        ("de-opportunity-card", "DE", "Opportunity Card", "Chancenkarte", "EUR"),
        ("kr-top-tier", "KR", "Top-Tier visa", "탑티어 비자", "KRW"),
        ("kr-e7", "KR", "E-7 Specially Designated Activities", "", "KRW"),
        ("nz-smc", "NZ", "Skilled Migrant Category", "", "NZD"),
        ("nz-aewv", "NZ", "Accredited Employer Work Visa", "", "NZD"),
        ("uk-skilled-worker", "GB", "Skilled Worker", "", "GBP"),
        ("uk-hpi", "GB", "High Potential Individual", "", "GBP"),
        ("jp-hsp", "JP", "Highly Skilled Professional", "高度専門職", "JPY"),
        (
            "jp-engineer",
            "JP",
            "Engineer / Specialist in Humanities",
            "技術・人文知識・国際業務",
            "JPY",
        ),
    ]
    q = {question.key: question for question in Question.objects.all()}
    for i, (slug, country, name, official, currency) in enumerate(names):
        route = RouteFactory(
            slug=slug,
            country=country,
            name=name,
            official_name=official,
            currency=currency,
            summary=f"{name}: a skilled-work route. {official}",
            official_url="https://example.org/official",
            points_needed=70 if i % 4 == 0 else None,
            last_verified_on=ON - dt.timedelta(days=30 * (i % 5)),
        )
        RequirementFactory(route=route, question=q["age"], operator="lte", value=45, order=1)
        RequirementFactory(
            route=route,
            question=q["education_level"],
            operator="gte",
            value="bachelor",
            order=2,
        )
        RequirementFactory(
            route=route, question=q["job_offer_country"], operator="eq", value=country, order=3
        )
        RequirementFactory(
            route=route,
            question=q["years_experience"],
            operator="gte",
            value=2,
            certainty="unclear" if i % 3 == 0 else "settled",
            met_text="A few years of relevant work (threshold unpublished)",
            order=4,
        )
        RequirementFactory(
            route=route, question=q["korean_level"], operator="gte", value="A2", order=5
        )
        if i % 4 == 0:
            for points, level in ((10, "bachelor"), (20, "master"), (30, "doctorate")):
                RequirementFactory(
                    route=route,
                    question=q["education_level"],
                    operator="gte",
                    value=level,
                    points=points,
                    points_group="Education",
                    order=6,
                )
            for points, age in ((15, 39), (25, 29)):
                RequirementFactory(
                    route=route,
                    question=q["age"],
                    operator="lte",
                    value=age,
                    points=points,
                    points_group="Age",
                    order=7,
                )
        for topic, text in (
            ("fees", "Fees vary; see the official page."),
            ("processing_time", "Several weeks."),
            ("pr_path", "After some years, under conditions."),
            ("family", "Spouse and children may join."),
        ):
            KeyFactFactory(route=route, topic=topic, text=text)
        OpenQuestionFactory(route=route, topic="Timing", text=f"Open point about {name}.")


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, list[float], float]:
    """Median wall-clock seconds, every run's, and the median CPU seconds of this process
    (steadier than wall time on a machine shared with other work)."""
    fn()  # warm-up: font discovery, template compilation
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), times, statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep-pdf", type=Path, help="also write the benchmarked PDF here")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if CATALOGUE_PATH.exists():
        call_command("import_routes", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        source = "catalogue (eligibility/catalogue/routes.yaml)"
    else:
        build_factory_routes()
        source = "13 factory routes (catalogue not found)"

    book = load_rulebook()
    questions = book.questions_by_key
    answers = {
        k: answer_parsing.parse_answer(questions[k], v) if v is not None else None
        for k, v in PROFILE.items()
        if k in questions
    }
    results = evaluate_routes(book, answers, ON)
    verdicts = {v.label: sum(r.verdict is v for r in results) for v in Verdict}

    def full() -> bytes:
        return pdf.render_results(pdf.results_for(load_rulebook(), answers, ON))

    def floor() -> bytes:
        return HTML(string="<p>Hello</p>").write_pdf()  # type: ignore[no-any-return]

    content = full()
    pages = len(PdfReader(BytesIO(content)).pages)
    if args.keep_pdf:
        args.keep_pdf.write_bytes(content)

    def same_pages() -> bytes:
        """Context, not a target: as many pages, one line each, no stylesheet."""
        return HTML(string='<p style="break-after: page">Page</p>' * pages).write_pdf()  # type: ignore[no-any-return]

    full_median, full_times, full_cpu = median_time(full, args.runs)
    floor_median, floor_times, floor_cpu = median_time(floor, args.runs)
    pages_median, _, _ = median_time(same_pages, args.runs)
    ratio = full_median / floor_median
    ok = full_median < 1.5 and ratio < 5

    rows = [
        ("routes", f"{len(book.routes)} from {source}"),
        ("verdicts", ", ".join(f"{n} {label.lower()}" for label, n in verdicts.items())),
        ("pages / size", f"{pages} pages, {len(content) / 1024:.0f} KiB"),
        ("results PDF (median)", f"{full_median:.3f} s (best {min(full_times):.3f} s)"),
        ("floor: one-line HTML (median)", f"{floor_median:.3f} s (best {min(floor_times):.3f} s)"),
        ("ratio", f"{ratio:.1f}x"),
        (
            "CPU time (median)",
            f"{full_cpu:.3f} s vs {floor_cpu:.3f} s: {full_cpu / floor_cpu:.1f}x",
        ),
        (
            f"{pages} one-line pages (median)",
            f"{pages_median:.3f} s (context: cost of pages alone)",
        ),
        ("target", f"< 1.5 s and < 5x floor: {'met' if ok else 'MISSED'}"),
        ("runs", f"{args.runs} each, after one warm-up"),
        ("load average", " ".join(f"{n:.2f}" for n in os.getloadavg()) + " (1, 5, 15 min)"),
        (
            "machine",
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    table = "\n".join(f"{label:<{width}}  {value}" for label, value in rows)
    print(table)

    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"pdf-{stamp}.txt").write_text(table + "\n")
    (out / f"pdf-{stamp}.json").write_text(
        json.dumps(
            {
                "routes": len(book.routes),
                "source": source,
                "pages": pages,
                "bytes": len(content),
                "full_median_s": full_median,
                "floor_median_s": floor_median,
                "same_pages_median_s": pages_median,
                "full_cpu_median_s": full_cpu,
                "floor_cpu_median_s": floor_cpu,
                "ratio": ratio,
                "target_met": ok,
                "full_runs_s": full_times,
                "floor_runs_s": floor_times,
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nWritten to bench-results/pdf-{stamp}.txt and .json")


if __name__ == "__main__":
    main()
