"""Benchmark: one answer step in process, with 13 routes and with 200. Not a test: run it with
`make bench-step`.

An answer step is what a browser with JavaScript sends for each answer: an htmx POST to
/a/<token>/q/<key>/ that saves the answer and returns the next question with the live route
panel. Applicants answer from one profile (bench/run.py's: a Master's graduate in India with a
German offer; any other question "I don't know"), through Django's test Client with DEBUG off.
Beside each step's median and p95 it reports the queries per step (the same for 13 and 200
routes), the engine's own share (next question, progress and route panel, called directly),
the template's share, and the floor: the same client GETting a one-line template (the view
`make bench` serves), so that the figures read as ratios.

By default every step starts with the per-process caches keyed by answers empty (each route's
standing under the answers it reads, and the readings shared by the calls of a step), as for a
step that reaches a worker process which has seen no step like it; `--reuse` keeps them within
an assessment. What depends only on the rules is kept, as a server keeps it: the compiled
rule book, the drawn country options and panel lines.

Works on scratch SQLite databases in a temporary directory: eligibility/catalogue/routes.yaml
loaded with import_routes (13 routes), then copied until there are 200 (as `make bench` does).

    .venv/bin/python bench/step_bench.py [--assessments 8] [--reuse]
    .venv/bin/python bench/step_bench.py --profile [--steps 60]   # pyinstrument, top entries
    .venv/bin/python bench/step_bench.py --callgrind [--steps 100]  # instructions per step

`--callgrind` runs this script under `valgrind --tool=callgrind` twice per route count, once
setting up and stopping, once setting up and then answering N steps, and reports
(difference / N) instructions per answer step: the subtraction removes start-up, and unlike
wall-clock time the count hardly moves between runs or machines. Garbage collections fall
where they fall, so take enough steps that one more or less moves the figure little.

Results: bench-results/step-<time>.json and .md (and step-profile-<time>-<routes>.txt).
"""

from __future__ import annotations

import argparse
import ast
import collections
import contextlib
import io
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
ROUTE_COUNTS = (13, 200)


def _configure(database: Path) -> None:
    """Production-like settings (DEBUG off) on a scratch database; must run before Django."""
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="eligibility.settings",
        DATABASE_URL=f"sqlite:///{database}",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="False",
        SECURE_COOKIES="False",
        SECURE_HSTS_SECONDS="0",
        NEW_ASSESSMENTS_LIMIT="100000000",
        BENCH_MODE="1",  # mounts the floor view, counts queries in X-DB-Queries
        LOG_LEVEL="ERROR",
        STATIC_ROOT=str(database.parent / "static"),
    )
    (database.parent / "static").mkdir(exist_ok=True)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def _bench_run_constant(name: str) -> Any:
    """A constant of bench/run.py (the load benchmark's profile and route copier), read without
    importing it: importing it would patch the standard library for gevent."""
    tree = ast.parse((ROOT / "bench" / "run.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise LookupError(f"bench/run.py has no {name}")


PROFILE: dict[str, str] = _bench_run_constant("PROFILE")


def prepare(scratch: Path) -> dict[int, Path]:
    """A database per route count: the catalogue, then the catalogue copied up to 200 routes."""
    from django.core.management import call_command
    from django.db import connections, transaction

    from eligibility.catalogue import CATALOGUE_PATH
    from eligibility.models import Route

    if not CATALOGUE_PATH.exists():
        sys.exit(f"{CATALOGUE_PATH} is missing: the step benchmark needs the catalogue.")
    call_command("migrate", verbosity=0)
    call_command("import_routes", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    databases: dict[int, Path] = {}
    live = Path(connections["default"].settings_dict["NAME"])
    for count in ROUTE_COUNTS:
        with transaction.atomic(), contextlib.redirect_stdout(io.StringIO()):
            exec(_bench_run_constant("GENERATE_ROUTES").replace("TARGET", str(count)), {})
        if Route.objects.published().count() != count:
            sys.exit(f"Expected {count} published routes.")
        connections.close_all()
        databases[count] = scratch / f"routes-{count}.sqlite3"
        shutil.copyfile(live, databases[count])
    return databases


def use_database(path: Path) -> None:
    """Point the default connection at another scratch database (and drop cached rules)."""
    from django.core.cache import cache
    from django.db import connections

    from eligibility import rules

    connections.close_all()
    connections["default"].settings_dict["NAME"] = str(path)
    cache.clear()
    rules.forget_cached_rulebook()


def forget_answer_caches() -> None:
    """Empty the per-process caches keyed by answers (the compiled rule book stays)."""
    from eligibility import questionnaire

    questionnaire.forget_cached_answers()


@dataclass
class Step:
    """One timed answer step: the question answered, wall-clock and CPU seconds, queries."""

    key: str
    seconds: float
    cpu_seconds: float
    queries: int


@dataclass
class Walk:
    steps: list[Step] = field(default_factory=list)
    order: dict[str, list[str]] = field(default_factory=dict)  # token: keys in answer order


HTMX = {"HTTP_HX_REQUEST": "true"}
FORM = "application/x-www-form-urlencoded"  # as htmx posts a form


def new_assessments(n: int) -> list[tuple[str, str]]:
    """n fresh assessments and each one's first question URL."""
    from django.test import Client
    from django.urls import reverse

    from eligibility.models import Assessment

    client = Client()
    made = []
    for _ in range(n):
        token = Assessment.objects.create().token
        first = client.get(reverse("resume", args=[token]))["Location"]
        made.append((token, first))
    return made


def answer_steps(
    assessments: list[tuple[str, str]], *, most: int | None = None, reuse: bool = False
) -> Walk:
    """Answer every question the flow asks, one htmx POST each, as bench/run.py's applicants
    do; at most `most` steps in all."""
    import urllib.parse

    from django.test import Client

    client = Client()
    walk = Walk()
    for token, location in assessments:
        keys: list[str] = []
        walk.order[token] = keys
        forget_answer_caches()
        while most is None or len(walk.steps) < most:
            key = location.rstrip("/").split("/")[-1]
            data = {"answer": PROFILE[key]} if key in PROFILE else {"dont_know": "on"}
            if not reuse:
                forget_answer_caches()
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.post(location, urlencode(data), FORM, **HTMX)
            seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            if response.status_code != 200:
                sys.exit(f"answer {key}: HTTP {response.status_code}")
            walk.steps.append(Step(key, seconds, cpu, int(response["X-DB-Queries"])))
            keys.append(key)
            if response.get("HX-Redirect"):
                break
            pushed = response.get("HX-Push-Url")
            if not pushed:
                sys.exit(f"answer {key}: no next step (an error message?)")
            location = urllib.parse.urlsplit(pushed).path
        if most is not None and len(walk.steps) >= most:
            break
    return walk


def floor_times(runs: int) -> list[float]:
    from django.test import Client

    client = Client()
    client.get("/bench/floor/")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get("/bench/floor/")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    return times


def engine_and_template_times(walk: Walk, reuse: bool) -> dict[str, list[float]]:
    """For each step walked, the engine's calls as the view makes them (next question,
    progress, route panel with the answers before), timed directly; then the step's template
    alone, rendered from the view's context (whose panel lines come drawn)."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.utils import timezone

    from eligibility import questionnaire, views
    from eligibility.models import Assessment
    from eligibility.rules import current_rulebook

    book = current_rulebook()
    on = timezone.localdate()
    times: dict[str, list[float]] = collections.defaultdict(list)
    request = RequestFactory().post("/", **HTMX)
    for token, keys in walk.order.items():
        assessment = Assessment.objects.get(token=token)
        saved = questionnaire.saved_answers(assessment, book)
        forget_answer_caches()
        for position, key in enumerate(keys):
            before = {k: saved[k] for k in keys[:position] if k in saved}
            after = {**before, key: saved.get(key)}
            if not reuse:
                forget_answer_caches()
            start = time.perf_counter()
            following = questionnaire.next_question(book, after, on)
            mid = time.perf_counter()
            questionnaire.progress(book, after, on)
            mid2 = time.perf_counter()
            questionnaire.route_panel(book, after, on, before)
            end = time.perf_counter()
            times["next_question"].append(mid - start)
            times["progress"].append(mid2 - mid)
            times["route_panel"].append(end - mid2)
            times["engine"].append(end - start)
            if following is None:
                continue
            context = views._step_context(
                assessment,
                book,
                following,
                after,
                views._answer_form(book, following, after),
                back_to="",
                before=before,
            )
            context = {**context, "oob": True}
            start = time.perf_counter()
            render_to_string("question.html#htmx_step", context, request)
            times["template"].append(time.perf_counter() - start)
    return times


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def measure(databases: dict[int, Path], assessments: int, reuse: bool) -> dict[str, Any]:
    from eligibility.rules import current_rulebook

    result: dict[str, Any] = {}
    for count, path in databases.items():
        use_database(path)
        answer_steps(new_assessments(1), reuse=reuse)  # warm-up: rules, templates, URLs
        walk = answer_steps(new_assessments(assessments), reuse=reuse)
        floor = floor_times(max(200, len(walk.steps)))
        parts = engine_and_template_times(walk, reuse)
        step_times = [s.seconds for s in walk.steps]
        queries = collections.Counter(s.queries for s in walk.steps)
        result[str(count)] = {
            "routes": len(current_rulebook().routes),
            "steps": len(walk.steps),
            "steps_per_assessment": round(len(walk.steps) / assessments, 1),
            "step_median_ms": ms(statistics.median(step_times)),
            "step_p95_ms": ms(p95(step_times)),
            "step_cpu_median_ms": ms(statistics.median(s.cpu_seconds for s in walk.steps)),
            "queries_per_step": dict(sorted(queries.items())),
            "floor_median_ms": ms(statistics.median(floor)),
            "floor_ratio": round(statistics.median(floor) / statistics.median(step_times), 3),
            **{f"{part}_median_ms": ms(statistics.median(t)) for part, t in parts.items()},
            "engine_share": round(
                statistics.median(parts["engine"]) / statistics.median(step_times), 3
            ),
            "template_share": round(
                statistics.median(parts["template"]) / statistics.median(step_times), 3
            ),
            "slowest_steps_ms": {
                s.key: ms(s.seconds) for s in sorted(walk.steps, key=lambda s: -s.seconds)[:3]
            },
        }
    return result


def measured_table(result: dict[str, Any], reuse: bool) -> str:
    rows = [("", *(f"{count} routes" for count in result))]
    labels = [
        ("steps measured", "steps", ""),
        ("answer step, median", "step_median_ms", " ms"),
        ("answer step, p95", "step_p95_ms", " ms"),
        ("answer step, CPU median", "step_cpu_median_ms", " ms"),
        ("queries per step", "queries_per_step", ""),
        ("engine: next question", "next_question_median_ms", " ms"),
        ("engine: progress", "progress_median_ms", " ms"),
        ("engine: route panel", "route_panel_median_ms", " ms"),
        ("engine, all three", "engine_median_ms", " ms"),
        ("engine share of a step", "engine_share", ""),
        ("template render", "template_median_ms", " ms"),
        ("template share of a step", "template_share", ""),
        ("floor: one-line template", "floor_median_ms", " ms"),
        ("floor / step (throughput ratio)", "floor_ratio", ""),
    ]
    for label, key, unit in labels:
        cells = []
        for figures in result.values():
            value = figures[key]
            if key == "queries_per_step":
                value = ", ".join(f"{q} ({n} steps)" for q, n in value.items())
            cells.append(f"{value}{unit}")
        rows.append((label, *cells))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)) for row in rows]
    caches = "kept within an assessment" if reuse else "emptied before every step"
    same = len({json.dumps(f["queries_per_step"]) for f in result.values()}) == 1
    lines += [
        "",
        f"answer caches: {caches}; queries per step the same for every route count: "
        + ("yes" if same else "NO"),
    ]
    return "\n".join(lines)


# --- pyinstrument --------------------------------------------------------------------------


def profile(databases: dict[int, Path], steps: int, stamp: str) -> str:
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    out = []
    for count, path in databases.items():
        use_database(path)
        answer_steps(new_assessments(1))
        assessments = new_assessments(steps // 10 + 2)
        profiler = Profiler(interval=0.0002)
        profiler.start()
        answer_steps(assessments, most=steps)
        profiler.stop()
        session = profiler.last_session
        assert session is not None
        flat = ConsoleRenderer(flat=True, time="percent_of_total").render(session)
        tree = ConsoleRenderer(short_mode=True, time="percent_of_total").render(session)
        text = (
            f"== {count} routes, {steps} answer steps: functions by own time ==\n"
            + "\n".join(flat.splitlines()[:40])
            + f"\n\n== {count} routes: call tree ==\n"
            + tree
        )
        (RESULTS / f"step-profile-{stamp}-{count}.txt").write_text(text)
        out.append(text)
    return "\n\n".join(out)


# --- callgrind -----------------------------------------------------------------------------


def inner(database: Path, steps: int, planned: int) -> None:
    """What runs under valgrind: the same set-up and warm-up whatever `steps` (assessments
    for `planned` steps, one assessment answered through), then `steps` answer steps."""
    use_database(database)
    assessments = new_assessments(planned // 8 + 2)
    answer_steps(new_assessments(1))
    if steps:
        answer_steps(assessments, most=steps)


def callgrind(databases: dict[int, Path], steps: int, scratch: Path) -> dict[str, Any]:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed.")
    found: dict[str, Any] = {}
    for count, path in databases.items():
        instructions = {}
        for n in (0, steps):
            copy = scratch / f"callgrind-{count}-{n}.sqlite3"
            shutil.copyfile(path, copy)
            out = scratch / f"callgrind-{count}-{n}.out"
            env = {**os.environ, "PYTHONHASHSEED": "0"}
            subprocess.run(
                [
                    "valgrind",
                    "--tool=callgrind",
                    f"--callgrind-out-file={out}",
                    sys.executable,
                    __file__,
                    "--inner",
                    str(copy),
                    "--steps",
                    str(n),
                    "--planned",
                    str(steps),
                ],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            instructions[n] = _total_instructions(out)
        found[str(count)] = {
            "steps": steps,
            "setup_only": instructions[0],
            "setup_and_steps": instructions[steps],
            "per_step": (instructions[steps] - instructions[0]) // steps,
        }
        print(f"{count} routes: {found[str(count)]['per_step']:,} instructions per answer step")
    return found


def _total_instructions(out: Path) -> int:
    for line in out.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise ValueError(f"No total in {out}")


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assessments", type=int, default=8, help="applicants per route count")
    parser.add_argument("--reuse", action="store_true", help="keep answer caches between steps")
    parser.add_argument("--profile", action="store_true", help="pyinstrument over --steps steps")
    parser.add_argument("--callgrind", action="store_true", help="instructions per step")
    parser.add_argument("--steps", type=int, help="steps to profile (60) or count (100)")
    parser.add_argument(
        "--scratch",
        default="/dev/shm" if os.access("/dev/shm", os.W_OK) else None,
        help="where the scratch databases go (default: /dev/shm, in memory, so that the "
        "disk's flushes do not hide the app's own cost; else the system's temp directory)",
    )
    parser.add_argument("--inner", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--planned", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.inner:
        _configure(args.inner)
        inner(args.inner, args.steps or 0, args.planned)

        return

    scratch = Path(tempfile.mkdtemp(prefix="step-bench-", dir=args.scratch))
    try:
        _configure(scratch / "bench.sqlite3")
        databases = prepare(scratch)
        RESULTS.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        result: dict[str, Any] = {
            "when": stamp,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}",
            "load_average": os.getloadavg(),
            "scratch": str(scratch),
        }
        sections = []
        if args.profile:
            text = profile(databases, args.steps or 60, stamp)
            print(text)
            sections.append(f"## Profile\n\n```\n{text}\n```")
        elif args.callgrind:
            result["callgrind"] = callgrind(databases, args.steps or 100, scratch)

            lines = [
                f"{count} routes: {c['per_step']:,} instructions per answer step "
                f"(({c['setup_and_steps']:,} - {c['setup_only']:,}) / {c['steps']})"
                for count, c in result["callgrind"].items()
            ]
            sections.append("## Callgrind\n\n```\n" + "\n".join(lines) + "\n```")
        else:
            result["reuse"] = args.reuse
            result["measured"] = measure(databases, args.assessments, args.reuse)
            table = measured_table(result["measured"], args.reuse)
            print(table)
            sections.append(f"## Answer step in process\n\n```\n{table}\n```")
        header = (
            f"# Answer step benchmark, {stamp}\n\n{result['machine']}, load "
            + " ".join(f"{n:.2f}" for n in result["load_average"])
            + f", SQLite in {scratch.parent}"
        )
        (RESULTS / f"step-{stamp}.md").write_text("\n\n".join([header, *sections]) + "\n")
        (RESULTS / f"step-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nWritten to bench-results/step-{stamp}.md and .json")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
