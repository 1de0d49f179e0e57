"""python manage.py pdf_worker: make the PDFs applicants ask for (eligibility.pdf_jobs).

django-tasks-db's database worker on the "pdf" queue that recycles itself: it exits after
--max-tasks PDFs, or as soon as it holds more than --max-memory MB once a PDF is done, so
that one huge document cannot keep memory taken. Whatever starts it starts it again: `make
worker` does, as would systemd's Restart=always. Run it at a lower CPU priority than the web
processes (`make worker` uses nice), so that answering questions comes first."""

from __future__ import annotations

import logging
import resource
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("django_tasks_db")


def memory_mb() -> float:
    """This process's resident memory now (Linux), else the most it has held."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RecyclingWorker(db_worker.Worker):
    most_mb: float = float("inf")

    def run_task(self, db_task_result: DBTaskResult[Any, Any]) -> None:
        super().run_task(db_task_result)
        held = memory_mb()
        if held > self.most_mb:
            logger.info("Holding %.0f MB, more than %.0f MB: exiting.", held, self.most_mb)
            self.running = False


class Command(db_worker.Command):
    help = "Make the PDFs applicants ask for; exits after --max-tasks or past --max-memory."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--max-memory",
            type=int,
            metavar="MB",
            default=settings.PDF_WORKER_MOST_MB,
            help="exit once a PDF is done and this process holds more (default: %(default)s)",
        )
        parser.set_defaults(
            queue_name="pdf", max_tasks=settings.PDF_WORKER_MOST_TASKS, interval=0.1, reload=False
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        worker = RecyclingWorker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=[],
        )
        worker.most_mb = options["max_memory"]
        warm_up()
        worker.configure_signals()
        worker.run()


def warm_up() -> None:
    """Load WeasyPrint and the fonts before the first PDF, not during it: a fresh worker's
    first PDF took seconds longer than the next."""
    from eligibility import pdf

    pdf.render_pdf('<html lang="en"><title>Warm-up</title><p>Route Finder 路线 경로</p></html>')
