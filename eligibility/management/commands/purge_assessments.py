"""python manage.py purge_assessments [--older-than DAYS]: delete assessments (and so their
answers and PDFs) started more than DAYS ago, as the start page promises; DAYS defaults to
ASSESSMENT_RETENTION_DAYS. Also deletes stored PDFs older than PDF_KEEP_HOURS, and finished
PDF tasks as old. Run it daily, e.g. from cron."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from eligibility.management.options import day_count
from eligibility.models import Assessment
from eligibility.pdf_jobs import purge_old_pdfs


def purge_assessments(older_than_days: int, now: dt.datetime | None = None) -> int:
    """Delete assessments started more than `older_than_days` days ago; the number deleted."""
    try:
        cutoff = (now or timezone.now()) - dt.timedelta(days=older_than_days)
    except OverflowError:  # before the calendar starts: none is that old
        return 0
    old = Assessment.objects.filter(created_at__lt=cutoff)
    count = old.count()
    old.delete()
    return count


class Command(BaseCommand):
    help = "Delete assessments (answers included) started more than DAYS days ago."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            metavar="DAYS",
            default=None,
            help=f"default: ASSESSMENT_RETENTION_DAYS ({settings.ASSESSMENT_RETENTION_DAYS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        given = options["older_than"]
        if given is None:
            days = settings.ASSESSMENT_RETENTION_DAYS
        else:
            days = day_count(given, "--older-than")
        count = purge_assessments(days)
        noun = "assessment" if count == 1 else "assessments"
        self.stdout.write(f"Deleted {count} {noun} older than {days} days.")
        pdfs = purge_old_pdfs()
        noun = "PDF" if pdfs == 1 else "PDFs"
        hours = settings.PDF_KEEP_HOURS
        self.stdout.write(f"Deleted {pdfs} stored {noun} older than {hours} hours.")
