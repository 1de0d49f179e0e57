"""Load benchmark (`make bench`; a benchmark, not a test).

Runs the app as `make serve` does (gunicorn, DEBUG off, WhiteNoise, PostgreSQL, Redis when
reachable) on 127.0.0.1 only, and drives it with locust: simulated applicants each start an
assessment, answer every question they are asked (htmx requests, as a browser with
JavaScript sends them), view their results and download the PDF. The floor is the same
server and settings serving a one-line template. Every phase is time-bounded.

    .venv/bin/python bench/run.py [--seconds 60]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/route_finder_bench;
the database is created if missing and its assessments are emptied first), REDIS_URL (default
redis://127.0.0.1:6379/0 when it answers), WEB_CONCURRENCY and WEB_THREADS as for make serve.
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
import re
import secrets
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
STEPS = ("answer", "results", "pdf")

# A Master's graduate in India with a German offer; other questions get "I don't know".
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
COMPLETED = [0]  # assessments taken through to the PDF in the current phase


def record_queries(step: str, response: Any) -> None:
    count = response.headers.get("X-DB-Queries")
    if count is not None:
        QUERIES[step][int(count)] += 1


class Applicant(FastHttpUser):
    """Start, answer every question asked, results, PDF; then start again."""

    wait_time = constant(0)
    final_steps: tuple[tuple[str, str], ...] = (("results", "results/"), ("pdf", "results.pdf"))

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
        for _ in range(60):
            key = location.rstrip("/").split("/")[-1]
            data = {"answer": PROFILE[key]} if key in PROFILE else {"dont_know": "on"}
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
        for step, path in self.final_steps:
            with self.client.get(f"/a/{token}/{path}", name=step, catch_response=True) as got:
                record_queries(step, got)
                if got.status_code != 200:
                    got.failure(f"{step}: {got.status_code}")
                    return
                if step == "pdf" and not (got.content or b"").startswith(b"%PDF"):
                    got.failure("pdf: not a PDF")
                    return
        COMPLETED[0] += 1


class ApplicantWithoutPdf(Applicant):
    """The same applicant who never downloads the PDF: shows what the answer step costs when
    no PDF rendering competes with it for the CPU (reported beside the targets, not for one)."""

    final_steps = (("results", "results/"),)


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
        sizes = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            kb = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
            sizes.append(kb / 1024)
        return sizes

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# --- Phases -----------------------------------------------------------------------------------


def run_phase(
    user: type[FastHttpUser], users: int, seconds: float, server: Server, until_completed: int = 0
) -> dict:
    """`users` clients without think time for `seconds`; with `until_completed`, stop as soon
    as that many assessments went all the way to the PDF (still at most `seconds`)."""
    QUERIES.clear()
    COMPLETED[0] = 0
    env = Environment(user_classes=[user], host=server.url)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    rss_peak: list[float] = []

    def sample_rss() -> None:
        while True:
            gevent.sleep(2)
            sizes = server.worker_rss_mb()
            rss_peak[:] = [max(a, b) for a, b in zip(rss_peak, sizes, strict=False)] or sizes

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
    errors = [f"{e.count} x {e.name}: {e.error}" for e in env.stats.errors.values()]
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "completed_assessments": COMPLETED[0],
        "steps": steps,
        "errors": sum(e.count for e in env.stats.errors.values()),
        "error_samples": errors[:10],
        "worker_rss_mb": [round(x, 1) for x in (rss_peak or server.worker_rss_mb())],
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


def table(result: dict) -> str:
    lines = []
    floor = result["floor"]["steps"]["floor"]
    for label, phase in (
        ("32 applicants, 13 routes", result["applicants_32"]),
        ("16 applicants, 13 routes", result["applicants_16"]),
        ("16 applicants who skip the PDF, 13 routes", result["applicants_16_no_pdf"]),
        ("2 applicants, 200 routes", result["applicants_200_routes"]),
    ):
        lines.append(
            f"\n{label} ({phase['seconds']} s, {phase['completed_assessments']} "
            f"assessments completed, {phase['errors']} errors, worker RSS "
            f"{', '.join(str(x) for x in phase['worker_rss_mb'])} MB)"
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
    lines.append(
        f"\nFloor (32 clients, one-line template): {floor['throughput']:.1f} req/s, "
        f"p50 {floor['p50']:.0f} ms, p95 {floor['p95']:.0f} ms, p99 {floor['p99']:.0f} ms, "
        f"{result['floor']['errors']} errors"
    )
    lines.append("\nTargets:")
    for name, met, detail in result["targets"]:
        lines.append(f"- [{'x' if met else ' '}] {name}: {detail}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("BENCH_SECONDS", 120)),
        help="length of each applicant phase (the floor runs at most 30 s)",
    )
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
        "Route.objects.filter(slug__startswith='bench-').delete()",
    )
    manage(env, "import_routes")
    manage(env, "collectstatic", "--noinput", "-v0")
    routes = int(manage(env, "shell", "-c", GENERATE_ROUTES.replace("TARGET", "0")).strip())

    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count()},
        "routes": routes,
    }
    server = Server(env)
    result["server"] = {
        "workers": server.workers,
        "threads": server.threads,
        "redis": bool(env["REDIS_URL"]),
    }
    print(
        f"gunicorn: {server.workers} workers x {server.threads} threads on {server.url}; "
        f"{routes} published routes; {seconds:.0f} s per phase"
    )
    try:
        print("Phase 1/4: the floor, 32 clients")
        result["floor"] = run_phase(FloorVisitor, 32, min(seconds, 30), server)
        print("Phase 2/4: 32 applicants")
        result["applicants_32"] = run_phase(Applicant, 32, seconds, server)
        print("Phase 3/4: 16 applicants")
        result["applicants_16"] = run_phase(Applicant, 16, seconds, server)
        print("Phase 3b: 16 applicants who skip the PDF (for comparison)")
        result["applicants_16_no_pdf"] = run_phase(ApplicantWithoutPdf, 16, seconds, server)
    finally:
        server.stop()

    print("Phase 4/4: 200 routes (generating the extra routes)")
    result["routes_large"] = int(
        manage(env, "shell", "-c", GENERATE_ROUTES.replace("TARGET", "200")).strip()
    )
    server = Server(env)
    try:
        # Two applicants, each through one whole assessment: enough to count every step's
        # queries (the engine's work grows with the routes; its queries must not).
        result["applicants_200_routes"] = run_phase(Applicant, 2, 4 * seconds, server, 2)
    finally:
        server.stop()
        manage(
            env,
            "shell",
            "-c",
            "from eligibility.models import Route; "
            "Route.objects.filter(slug__startswith='bench-').delete()",
        )

    a16 = result["applicants_16"]["steps"].get("answer", {})
    a32 = result["applicants_32"]["steps"].get("answer", {})
    floor = result["floor"]["steps"]["floor"]
    ratio = a32.get("throughput", 0) / floor["throughput"]
    result["answer_to_floor_ratio"] = round(ratio, 3)
    errors = sum(
        result[p]["errors"]
        for p in ("floor", "applicants_32", "applicants_16", "applicants_200_routes")
    )
    rss = max(
        x
        for p in ("floor", "applicants_32", "applicants_16", "applicants_200_routes")
        for x in result[p]["worker_rss_mb"]
    )
    q13 = {s: result["applicants_32"]["steps"].get(s, {}).get("queries") for s in STEPS}
    q200 = {s: result["applicants_200_routes"]["steps"].get(s, {}).get("queries") for s in STEPS}
    result["targets"] = [
        ("zero errors", errors == 0, f"{errors} errors"),
        (
            "answer p95 < 50 ms at 16 applicants",
            a16.get("p95", 1e9) < 50,
            f"{a16.get('p95', float('nan')):.0f} ms",
        ),
        (
            "answer throughput >= 50% of the floor",
            ratio >= 0.5,
            f"{a32.get('throughput', 0):.1f} / {floor['throughput']:.1f} req/s = {ratio:.0%}",
        ),
        ("worker RSS < 150 MB", rss < 150, f"largest {rss:.0f} MB"),
        (
            "queries per step equal at 13 and 200 routes",
            q13 == q200,
            f"13 routes {q13}, 200 routes {q200}",
        ),
    ]
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(result, indent=2))
    text = table(result)
    (RESULTS / f"bench-{stamp}.md").write_text(text + "\n")
    print(text)
    print(f"\nWritten to {RESULTS / f'bench-{stamp}.json'} and .md")


if __name__ == "__main__":
    main()
