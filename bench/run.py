"""Load benchmark (`make bench`; a benchmark, not a test).

Runs the app as `make serve` and `make worker` do (gunicorn, DEBUG off, WhiteNoise,
PostgreSQL, Redis when reachable; PDF workers at lower CPU priority) on 127.0.0.1 only, and
drives it with locust: simulated applicants each start an assessment, answer every question
they are asked (htmx requests, as a browser with JavaScript sends them), view their results,
and (in the PDF phases) ask for the PDF, poll until a PDF worker has made it, download it and
download it again. The floor is the same server and settings serving a one-line template.
Every phase is time-bounded. Then the in-process figures of bench/step_bench.py (answer step
medians and callgrind instruction counts) are added to the table.

    .venv/bin/python bench/run.py [--seconds 30] [--skip-in-process]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/route_finder_bench;
the database is created if missing and its assessments are emptied first), REDIS_URL (default
redis://127.0.0.1:6379/0 when it answers), WEB_CONCURRENCY and WEB_THREADS as for make serve,
PDF_WORKERS (default: one per CPU).
Results: bench-results/bench-<time>.json and bench-results/bench-<time>.md.
"""

from __future__ import annotations

# locust patches the standard library for gevent; it must come first.
from locust import FastHttpUser, constant, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import collections
import datetime as dt
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import gevent

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
RESULTS = ROOT / "bench-results"
STEPS = ("answer", "results", "ask for pdf", "pdf ready", "pdf download", "pdf again")
# How often an applicant's page asks whether the PDF is ready (a browser polls every second;
# more often here, so that "pdf ready" is measured to a quarter of a second).
POLL_SECONDS = 0.25

# A Master's graduate in India with a German offer; other questions get "I don't know". Age
# and salary vary between applicants, so that no two PDFs are the same.
PROFILE = {
    "age": "29",
    "education_level": "master",
    "stem_field": "yes",
    "university_rank": "top500",
    "graduation_year": "2024",
    "degree_country": "IN",
    "years_experience": "4",
    "job_offer_country": "DE",
    "offered_salary": "56000",
    "english_level": "C1",
    "german_level": "A2",
    "chinese_level": "none",
    "japanese_level": "none",
    "current_country": "IN",
    "proof_of_funds": "yes",
}

# Queries per request, by step, from the server's X-DB-Queries header (BENCH_MODE only).
QUERIES: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
COMPLETED = [0]  # assessments taken through to the last step in the current phase


def record_queries(step: str, response: Any) -> None:
    count = response.headers.get("X-DB-Queries")
    if count is not None:
        QUERIES[step][int(count)] += 1


class Applicant(FastHttpUser):
    """Start, answer every question asked, results; then start again."""

    wait_time = constant(0)
    asks_for_pdf = False

    @task
    def one_assessment(self) -> None:
        with self.client.get("/", name="start page", catch_response=True) as page:
            match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text or "")
            if page.status_code != 200 or not match:
                page.failure(f"start page: {page.status_code}")
                return
        csrf = match.group(1)
        with self.client.post(
            "/start/",
            data={"csrfmiddlewaretoken": csrf},
            name="start",
            allow_redirects=False,
            catch_response=True,
        ) as started:
            location = started.headers.get("Location", "")
            if started.status_code != 302 or "/q/" not in location:
                started.failure(f"start: {started.status_code} {location}")
                return
        with self.client.get(location, name="question page", catch_response=True) as page:
            if page.status_code != 200:
                page.failure(f"question page: {page.status_code}")
                return
            record_queries("question page", page)
        token = location.split("/")[2]
        profile = {
            **PROFILE,
            "age": str(random.randint(22, 45)),
            "offered_salary": str(random.randint(45_000, 95_000)),
        }
        for _ in range(80):
            key = location.rstrip("/").split("/")[-1]
            data = {"answer": profile[key]} if key in profile else {"dont_know": "on"}
            with self.client.post(
                location,
                data=data,
                headers={"HX-Request": "true", "X-CSRFToken": csrf, "Referer": self.host},
                name="answer",
                catch_response=True,
            ) as answered:
                record_queries("answer", answered)
                if answered.status_code != 200:
                    answered.failure(f"answer {key}: {answered.status_code}")
                    return
                pushed = answered.headers.get("HX-Push-Url")
                if answered.headers.get("HX-Redirect"):
                    break
                if not pushed:
                    answered.failure(f"answer {key}: no next step (an error message?)")
                    return
                location = urllib.parse.urlsplit(pushed).path
        with self.client.get(f"/a/{token}/results/", name="results", catch_response=True) as got:
            record_queries("results", got)
            if got.status_code != 200:
                got.failure(f"results: {got.status_code}")
                return
        if self.asks_for_pdf and not self.pdf(token, csrf):
            return
        COMPLETED[0] += 1

    def pdf(self, token: str, csrf: str) -> bool:
        """Ask for the PDF, poll as htmx does until it is ready, download it, download it
        again; "pdf ready" is the time from asking to the poll that says so."""
        asked_at = time.perf_counter()
        with self.client.post(
            f"/a/{token}/pdf/",
            data={"csrfmiddlewaretoken": csrf},
            headers={"Referer": self.host},
            name="ask for pdf",
            allow_redirects=False,
            catch_response=True,
        ) as asked:
            record_queries("ask for pdf", asked)
            status_url = asked.headers.get("Location", "")
            if asked.status_code != 302 or "/pdf/" not in status_url:
                asked.failure(f"ask for pdf: {asked.status_code}")
                return False
        while True:
            gevent.sleep(POLL_SECONDS)
            with self.client.get(
                f"{status_url}?waiting=1",
                headers={"HX-Request": "true"},
                name="pdf poll",
                catch_response=True,
            ) as polled:
                if polled.status_code == 204:
                    continue
                if polled.status_code != 200 or "Your PDF is ready" not in (polled.text or ""):
                    polled.failure(f"pdf poll: {polled.status_code} {(polled.text or '')[:200]}")
                    return False
                break
        self.environment.events.request.fire(
            request_type="PDF",
            name="pdf ready",
            response_time=(time.perf_counter() - asked_at) * 1000,
            response_length=0,
            exception=None,
            context={},
        )
        for step in ("pdf download", "pdf again"):
            with self.client.get(f"{status_url}file/", name=step, catch_response=True) as got:
                record_queries(step, got)
                if got.status_code != 200 or not (got.content or b"").startswith(b"%PDF"):
                    got.failure(f"{step}: {got.status_code}")
                    return False
        return True


class ApplicantWithPdf(Applicant):
    """The same applicant who also asks for the PDF and waits for it before starting again."""

    asks_for_pdf = True


class FloorVisitor(FastHttpUser):
    wait_time = constant(0)

    @task
    def floor(self) -> None:
        with self.client.get("/bench/floor/", name="floor", catch_response=True) as got:
            record_queries("floor", got)
            if got.status_code != 200:
                got.failure(f"floor: {got.status_code}")


# --- The server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable_redis() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:
        print(f"Redis not reachable at {url}: running without it (per-process cache).")
        return ""
    return url


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BENCH_"))}
    env.update(
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on 127.0.0.1: no TLS to redirect to, so no secure-only cookies either.
        SECURE_SSL_REDIRECT="False",
        SECURE_COOKIES="False",
        DATABASE_URL=database_url,
        DB_CONN_MAX_AGE="60",
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=f"bench-{secrets.token_hex(4)}",
        NEW_ASSESSMENTS_LIMIT="100000000",  # one client IP plays every applicant
        PDF_REQUESTS_LIMIT="100000000",
        ANSWERS_LIMIT="100000000",
        # A 200-route PDF is far past the 40 pages an applicant gets: made anyway, to measure
        # what a long PDF costs a worker.
        PDF_MOST_PAGES="1000",
        PDF_MOST_HTML_KB="100000",
        BENCH_MODE="1",
        LOG_LEVEL="ERROR",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    if args[0] == "shell":
        args = ("shell", "--no-imports", *args[1:])
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def ensure_database(database_url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


class Server:
    """gunicorn as `make serve` starts it, on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workers = os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1) + 1))
        self.workers = int(workers)
        self.threads = int(os.environ.get("WEB_THREADS", "1"))
        self.process = subprocess.Popen(
            [
                GUNICORN,
                "eligibility.wsgi",
                "--config",
                "python:eligibility.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/bench/floor/", timeout=5)
                break
            except Exception:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    sys.exit("gunicorn did not start")
                time.sleep(0.3)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()]

    def worker_rss_mb(self) -> list[float]:
        return [rss_mb(pid) for pid in self.worker_pids()]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class PdfWorkers:
    """PDF workers as `make worker` starts them: each `manage.py pdf_worker`, at nice 10, in a
    loop that starts it again when it exits (after PDF_WORKER_MOST_TASKS or past
    PDF_WORKER_MOST_MB)."""

    def __init__(self, env: dict[str, str], count: int) -> None:
        loop = f"while :; do nice -n 10 {PYTHON} manage.py pdf_worker -v0 || sleep 1; done"
        self.loops = [
            subprocess.Popen(["bash", "-c", loop], cwd=ROOT, env=env, start_new_session=True)
            for _ in range(count)
        ]

    def pids(self) -> list[int]:
        found = []
        for loop in self.loops:
            path = Path(f"/proc/{loop.pid}/task/{loop.pid}/children")
            found += [int(p) for p in path.read_text().split()] if path.exists() else []
        return found

    def rss_mb(self) -> list[float]:
        return [rss_mb(pid) for pid in self.pids()]

    def stop(self) -> None:
        for loop in self.loops:
            os.killpg(loop.pid, signal.SIGTERM)
        for loop in self.loops:
            loop.wait(timeout=60)


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


# --- Phases -----------------------------------------------------------------------------------


def run_phase(
    user: type[FastHttpUser],
    users: int,
    seconds: float,
    server: Server,
    until_completed: int = 0,
    pdf_workers: PdfWorkers | None = None,
) -> dict:
    """`users` clients without think time for `seconds`; with `until_completed`, stop as soon
    as that many assessments went all the way through (still at most `seconds`)."""
    QUERIES.clear()
    COMPLETED[0] = 0
    env = Environment(user_classes=[user], host=server.url)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    web_peak: list[float] = []
    pdf_peak = [0.0]

    def sample_rss() -> None:
        while True:
            gevent.sleep(1)
            sizes = server.worker_rss_mb()
            web_peak[:] = [max(a, b) for a, b in zip(web_peak, sizes, strict=False)] or sizes
            if pdf_workers:
                pdf_peak[0] = max([pdf_peak[0], *pdf_workers.rss_mb()])

    sampler = gevent.spawn(sample_rss)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        gevent.sleep(0.5)
        if until_completed and COMPLETED[0] >= until_completed:
            break
    runner.quit()
    elapsed = time.monotonic() - started
    sampler.kill()
    steps = {}
    for (name, _method), entry in env.stats.entries.items():
        steps[name] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "throughput": entry.num_requests / elapsed,
            "p50": entry.get_response_time_percentile(0.50),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            # Steady state: the most common count (the first request after a rules change
            # also loads the rules into the cache); and the highest seen.
            "queries": QUERIES[name].most_common(1)[0][0] if QUERIES[name] else None,
            "queries_max": max(QUERIES[name]) if QUERIES[name] else None,
        }
    # locust counts each distinct error in `occurrences`.
    errors = [f"{e.occurrences} x {e.name}: {e.error}" for e in env.stats.errors.values()]
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "completed_assessments": COMPLETED[0],
        "steps": steps,
        "errors": sum(e.occurrences for e in env.stats.errors.values()),
        "error_samples": errors[:10],
        "worker_rss_mb": [round(x, 1) for x in (web_peak or server.worker_rss_mb())],
        "pdf_worker_rss_mb": round(pdf_peak[0], 1),
    }


GENERATE_ROUTES = """
import itertools
from eligibility.models import Route
originals = list(
    Route.objects.published().prefetch_related(
        "requirements__values", "key_facts", "open_questions"
    )
)
have = Route.objects.count()
for n in itertools.count():
    if have >= TARGET:
        break
    source = originals[n % len(originals)]
    requirements = [(r, list(r.values.all())) for r in source.requirements.all()]
    facts = list(source.key_facts.all())
    open_questions = list(source.open_questions.all())
    source.pk = None
    source.slug = f"bench-{n}-{source.slug}"[:60]
    source.name = f"{source.name} (copy {n})"
    source.save()
    for row in facts + open_questions:
        row.pk = None
        row.route = source
        row.save()
    for requirement, values in requirements:
        requirement.pk = None
        requirement.route = source
        requirement.save()
        for value in values:
            value.pk = None
            value.requirement = requirement
            value.save()
    have += 1
print(Route.objects.published().count())
"""


def pdfs_made(database_url: str, since: dt.datetime) -> dict[str, float]:
    """From the database: how long PDFs asked for since `since` took from being asked for to
    being stored (queue and rendering, without the applicant's polling), in ms."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM finished_at - requested_at) * 1000, pages "
            "FROM eligibility_resultspdf WHERE requested_at >= %s AND status = 'ready'",
            [since],
        ).fetchall()
    if not rows:
        return {}
    times = sorted(float(t) for t, _ in rows)

    def at(q: float) -> float:
        return times[min(len(times) - 1, int(q * len(times)))]

    return {
        "count": len(times),
        "p50": at(0.5),
        "p95": at(0.95),
        "pages": max(int(p) for _, p in rows),
    }


PHASES = (
    ("applicants_16_no_pdf", "16 applicants who skip the PDF, 13 routes"),
    ("applicants_16_pdf", "16 applicants who each also ask for a PDF, 13 routes"),
    ("quiet_pdf", "1 applicant with a PDF, a quiet machine, 13 routes"),
    ("applicants_200_routes", "2 applicants with a PDF, 200 routes"),
)


def table(result: dict) -> str:
    lines = []
    floor = result["floor"]["steps"]["floor"]
    lines.append(
        f"Floor (32 clients, one-line template): {floor['throughput']:.1f} req/s, "
        f"p50 {floor['p50']:.0f} ms, p95 {floor['p95']:.0f} ms, p99 {floor['p99']:.0f} ms, "
        f"{result['floor']['errors']} errors"
    )
    for key, label in PHASES:
        phase = result[key]
        lines.append(
            f"\n{label} ({phase['seconds']} s, {phase['completed_assessments']} "
            f"assessments completed, {phase['errors']} errors; peak RSS: web workers "
            f"{', '.join(str(x) for x in phase['worker_rss_mb'])} MB, PDF workers "
            f"{phase['pdf_worker_rss_mb']} MB)"
        )
        lines.append("| step | requests | req/s | p50 ms | p95 ms | p99 ms | queries |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for step in ("start", "question page", *STEPS):
            s = phase["steps"].get(step)
            if s:
                queries = "-" if s["queries"] is None else str(s["queries"])
                if s["queries_max"] not in (None, s["queries"]):
                    queries += f" (max {s['queries_max']})"
                lines.append(
                    f"| {step} | {s['requests']} | {s['throughput']:.1f} | {s['p50']:.0f}"
                    f" | {s['p95']:.0f} | {s['p99']:.0f} | {queries} |"
                )
        made = phase.get("pdfs_made")
        if made:
            lines.append(
                f"- PDFs made (asked for to stored, from the database): {made['count']}, "
                f"p50 {made['p50']:.0f} ms, p95 {made['p95']:.0f} ms, up to {made['pages']} pages"
            )
        for sample in phase["error_samples"]:
            lines.append(f"- error: {sample}")
    in_process = result.get("in_process")
    if in_process:
        lines.append("\nIn process (bench/step_bench.py): one answer step")
        lines.append("| routes | median ms | p95 ms | floor ms | instructions per step |")
        lines.append("|---|---:|---:|---:|---:|")
        for routes, row in sorted(in_process.items(), key=lambda kv: int(kv[0])):
            lines.append(
                f"| {routes} | {row['median_ms']:.2f} | {row['p95_ms']:.2f} "
                f"| {row['floor_ms']:.2f} | {row['instructions'] or '-'} |"
            )
    lines.append("\nTargets:")
    for name, met, detail in result["targets"]:
        lines.append(f"- [{'x' if met else ' '}] {name}: {detail}")
    return "\n".join(lines)


def in_process_figures() -> dict[str, dict[str, Any]]:
    """bench/step_bench.py's medians and callgrind counts (20 steps), by number of routes."""
    figures: dict[str, dict[str, Any]] = {}
    for mode in ([], ["--callgrind", "--steps", "20"]):
        before = set(RESULTS.glob("step-*.json"))
        done = subprocess.run(
            [PYTHON, str(ROOT / "bench" / "step_bench.py"), *mode],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        made = sorted(set(RESULTS.glob("step-*.json")) - before)
        if done.returncode != 0 or not made:
            print(f"bench/step_bench.py {' '.join(mode)} failed:\n{done.stderr[-2000:]}")
            return {}
        found = json.loads(made[-1].read_text())
        for routes, row in found.get("measured", {}).items():
            figures.setdefault(routes, {"instructions": None}).update(
                median_ms=row["step_median_ms"],
                p95_ms=row["step_p95_ms"],
                floor_ms=row["floor_median_ms"],
                queries=row["queries_per_step"],
            )
        for routes, row in found.get("callgrind", {}).items():
            figures.setdefault(routes, {}).update(instructions=f"{row['per_step']:,}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("BENCH_SECONDS", 30)),
        help="length of each applicant phase (the floor runs at most 30 s)",
    )
    parser.add_argument("--skip-in-process", action="store_true", help="no step_bench.py")
    args = parser.parse_args()
    seconds = args.seconds

    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/route_finder_bench"
    )
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmark runs on PostgreSQL: set BENCH_DATABASE_URL=postgres://…")
    if urllib.parse.urlsplit(database_url).hostname not in ("127.0.0.1", "localhost"):
        sys.exit("The benchmark only runs against this machine (127.0.0.1).")
    ensure_database(database_url)
    env = server_env(database_url, reachable_redis())
    print("Preparing the benchmark database and static files...")
    manage(env, "migrate", "--noinput", "-v0")
    manage(
        env,
        "shell",
        "-c",
        "from eligibility.models import Assessment, Route; Assessment.objects.all().delete(); "
        "Route.objects.filter(slug__startswith='bench-').delete(); "
        "from django_tasks_db.models import DBTaskResult; DBTaskResult.objects.all().delete()",
    )
    manage(env, "import_routes")
    manage(env, "collectstatic", "--noinput", "-v0")
    routes = int(manage(env, "shell", "-c", GENERATE_ROUTES.replace("TARGET", "0")).strip())
    pdf_worker_count = int(os.environ.get("PDF_WORKERS", str(os.cpu_count() or 1)))

    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count()},
        "routes": routes,
    }
    server = Server(env)
    result["server"] = {
        "workers": server.workers,
        "threads": server.threads,
        "pdf_workers": pdf_worker_count,
        "redis": bool(env["REDIS_URL"]),
    }
    print(
        f"gunicorn: {server.workers} workers x {server.threads} threads on {server.url}; "
        f"{pdf_worker_count} PDF workers; {routes} published routes; {seconds:.0f} s per phase"
    )
    pdf_workers = PdfWorkers(env, pdf_worker_count)
    try:
        print("Phase 1/5: the floor, 32 clients")
        result["floor"] = run_phase(FloorVisitor, 32, min(seconds, 30), server)
        print("Phase 2/5: 16 applicants who skip the PDF")
        result["applicants_16_no_pdf"] = run_phase(Applicant, 16, seconds, server)
        print("Phase 3/5: 16 applicants who each ask for a PDF")
        since = dt.datetime.now(dt.UTC)
        result["applicants_16_pdf"] = run_phase(
            ApplicantWithPdf, 16, seconds, server, pdf_workers=pdf_workers
        )
        result["applicants_16_pdf"]["pdfs_made"] = pdfs_made(database_url, since)
        print("Phase 4/5: 1 applicant with a PDF on a quiet machine")
        gevent.sleep(5)  # the last phase's PDFs are finished
        since = dt.datetime.now(dt.UTC)
        result["quiet_pdf"] = run_phase(
            ApplicantWithPdf, 1, seconds, server, until_completed=10, pdf_workers=pdf_workers
        )
        result["quiet_pdf"]["pdfs_made"] = pdfs_made(database_url, since)
    finally:
        server.stop()
        pdf_workers.stop()

    print("Phase 5/5: 200 routes (generating the extra routes)")
    result["routes_large"] = int(
        manage(env, "shell", "-c", GENERATE_ROUTES.replace("TARGET", "200")).strip()
    )
    server = Server(env)
    pdf_workers = PdfWorkers(env, pdf_worker_count)
    try:
        # Two applicants, each through whole assessments with a PDF: every step's queries
        # (the engine's work grows with the routes; its queries must not), and the memory a
        # PDF worker takes for a long PDF.
        since = dt.datetime.now(dt.UTC)
        result["applicants_200_routes"] = run_phase(
            ApplicantWithPdf, 2, 4 * seconds, server, until_completed=4, pdf_workers=pdf_workers
        )
        result["applicants_200_routes"]["pdfs_made"] = pdfs_made(database_url, since)
    finally:
        server.stop()
        pdf_workers.stop()
        manage(
            env,
            "shell",
            "-c",
            "from eligibility.models import Route; "
            "Route.objects.filter(slug__startswith='bench-').delete()",
        )
    if not args.skip_in_process:
        print("In process: bench/step_bench.py (medians, then callgrind counts)")
        result["in_process"] = in_process_figures()
    result["targets"] = targets(result)
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(result, indent=2))
    text = table(result)
    (RESULTS / f"bench-{stamp}.md").write_text(text + "\n")
    print(text)
    print(f"\nWritten to {RESULTS / f'bench-{stamp}.json'} and .md")


def targets(result: dict) -> list[tuple[str, bool, str]]:
    nan = float("nan")

    def step(phase: str, name: str) -> dict[str, float]:
        return dict(result[phase]["steps"].get(name, {}))

    floor = result["floor"]["steps"]["floor"]
    plain = step("applicants_16_no_pdf", "answer")
    loaded = step("applicants_16_pdf", "answer")
    ratio = plain.get("throughput", 0) / floor["throughput"]
    result["answer_to_floor_ratio"] = round(ratio, 3)
    phases = ["floor", *(key for key, _ in PHASES)]
    errors = sum(result[p]["errors"] for p in phases)
    web_rss = max(x for p in phases for x in result[p]["worker_rss_mb"])
    pdf_rss = result["applicants_200_routes"]["pdf_worker_rss_mb"]
    q13 = {s: step("applicants_16_pdf", s).get("queries") for s in STEPS}
    q200 = {s: step("applicants_200_routes", s).get("queries") for s in STEPS}
    ready = step("applicants_16_pdf", "pdf ready")
    quiet = step("quiet_pdf", "pdf ready")
    made_loaded = result["applicants_16_pdf"].get("pdfs_made") or {}
    made_quiet = result["quiet_pdf"].get("pdfs_made") or {}
    again = step("quiet_pdf", "pdf again")
    found = [
        ("zero errors", errors == 0, f"{errors} errors"),
        (
            "answer step >= 33% of the floor's throughput, 16 applicants, no PDFs (goal 50%)",
            ratio >= 0.33,
            f"{plain.get('throughput', 0):.1f} / {floor['throughput']:.1f} req/s = {ratio:.0%}",
        ),
        (
            "answer step p95 < 50 ms at 16 applicants who each also ask for a PDF",
            loaded.get("p95", nan) < 50,
            f"{loaded.get('p95', nan):.0f} ms",
        ),
        (
            "PDF ready within 5 s at p95 under that load",
            ready.get("p95", nan) < 5000,
            f"{ready.get('p95', nan):.0f} ms as the applicant polls "
            f"({made_loaded.get('p95', nan):.0f} ms asked for to stored)",
        ),
        (
            "typical PDF ready under 0.5 s on a quiet machine (median)",
            quiet.get("p50", nan) < 500,
            f"{quiet.get('p50', nan):.0f} ms as the applicant polls every "
            f"{POLL_SECONDS} s ({made_quiet.get('p50', nan):.0f} ms asked for to stored)",
        ),
        (
            "repeated download under 20 ms (median, quiet)",
            again.get("p50", nan) < 20,
            f"{again.get('p50', nan):.0f} ms (p95 under load "
            f"{step('applicants_16_pdf', 'pdf again').get('p95', nan):.0f} ms)",
        ),
        ("web worker RSS < 120 MB after any workload", web_rss < 120, f"largest {web_rss:.0f} MB"),
        (
            "PDF worker memory bounded by recycling (200 routes)",
            pdf_rss > 0,
            f"peak {pdf_rss:.0f} MB; a worker holding more than PDF_WORKER_MOST_MB after a PDF "
            "exits and is started again",
        ),
        (
            "queries per step equal at 13 and 200 routes",
            q13 == q200,
            f"13 routes {q13}, 200 routes {q200}",
        ),
    ]
    in_process = result.get("in_process") or {}
    for routes, most in (("13", 3.0), ("200", 10.0)):
        row = in_process.get(routes)
        found.append(
            (
                f"in-process answer step median <= {most:.0f} ms with {routes} routes",
                bool(row) and row["median_ms"] <= most,
                f"{row['median_ms']:.2f} ms, {row['instructions'] or '?'} instructions"
                if row
                else "not measured",
            )
        )
    return found


if __name__ == "__main__":
    main()
