"""python manage.py review_digest [--email] [--stale-days N] [--on YYYY-MM-DD]

Prints the weekly review digest: published routes overdue for review, sources older than N
days (default 365) and drafts waiting for a reviewer. With --email, also sends it to every
active adviser, reviewer and superuser with an e-mail address, through Django's mail settings.
Exit status: 0 when done, 1 when the mail could not be sent, 2 for bad usage or nobody to send
it to."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from eligibility.advisers.review import STALE_AFTER_DAYS, digest
from eligibility.management.options import day_count, evaluation_date

ADVISER_GROUPS = ("Adviser", "Reviewer")


def adviser_addresses() -> list[str]:
    """The e-mail addresses of active advisers, reviewers and superusers."""
    users = get_user_model().objects.filter(
        Q(groups__name__in=ADVISER_GROUPS) | Q(is_superuser=True), is_active=True
    )
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


class Command(BaseCommand):
    help = (
        "Print the weekly review digest (routes overdue for review, stale sources, drafts "
        "waiting); with --email, send it to the advisers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--email", action="store_true", help="also send it to the advisers by e-mail"
        )
        parser.add_argument(
            "--stale-days",
            default=str(STALE_AFTER_DAYS),
            help=f"a source older than this many days is stale (default {STALE_AFTER_DAYS})",
        )
        parser.add_argument("--on", type=str, help="the day of the digest (default today)")

    def handle(self, *args: Any, **options: Any) -> None:
        today = evaluation_date(options["on"]) if options["on"] else timezone.localdate()
        stale_days = day_count(options["stale_days"], "--stale-days")
        recipients = adviser_addresses() if options["email"] else []
        if options["email"] and not recipients:
            raise CommandError(
                "No active adviser, reviewer or superuser has an e-mail address; add one in "
                "the admin (Users), then send again.",
                returncode=2,
            )
        text = digest(today, stale_after_days=stale_days)
        self.stdout.write(text, ending="")
        if not recipients:
            return
        try:
            send_mail(
                f"Route Finder review digest, {today:%d %b %Y}",
                text,
                settings.DEFAULT_FROM_EMAIL,
                recipients,
            )
        except OSError as exc:  # smtplib's errors are OSErrors
            raise CommandError(f"The digest was not sent: {exc}", returncode=1) from None
        self.stdout.write(
            f"Sent the digest to {len(recipients)} adviser{'s' if len(recipients) != 1 else ''}."
        )
