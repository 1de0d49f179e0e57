"""The PDF worker's own code, run in the test's process: what `manage.py pdf_worker` does to
every PDF waiting in the queue, without another process (which could not see the test's
transaction)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from unittest import mock

from django.db import connection

from eligibility.management.commands.pdf_worker import RecyclingWorker


def worker(*, batch: bool, most_mb: float = float("inf")) -> RecyclingWorker:
    made = RecyclingWorker(
        queue_names=["pdf"],
        interval=0 if batch else 0.1,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    made.most_mb = most_mb
    return made


def work_off_pdf_queue(*, most_mb: float = float("inf")) -> None:
    """Every PDF waiting in the queue, made (a worker holding more than `most_mb` stops)."""
    # Between tasks the worker closes its connection when it is old; here that connection
    # holds the test's transaction, which must outlive the worker.
    with mock.patch(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    ):
        worker(batch=True, most_mb=most_mb).run()


@contextlib.contextmanager
def pdf_worker_thread() -> Iterator[None]:
    """A PDF worker polling the queue in a thread of the test's process, for browser tests:
    the live server and the worker share the test database, which another process could not
    reach on SQLite."""
    polling = worker(batch=False)

    failed: list[BaseException] = []

    def work() -> None:
        try:
            polling.run()
        except BaseException as error:
            failed.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield
    finally:
        polling.running = False
        thread.join(timeout=30)
    if failed:
        raise failed[0]
