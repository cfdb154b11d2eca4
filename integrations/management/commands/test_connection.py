"""Test an integration's connection now: `manage.py test_connection ID|NAME`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.models import AuditAction
from integrations.services import connection

from ._common import OPERATOR_NOTE, audited, find_integration


def yes_no(value) -> str:
    return {True: "yes", False: "no"}.get(value, "unknown")


class Command(BaseCommand):
    help = (
        "Test an integration's credentials inline; exit code 1 when the test fails." + OPERATOR_NOTE
    )

    def add_arguments(self, parser):
        parser.add_argument("integration", help="The integration's id or exact name.")

    def handle(self, *args, integration: str, **options):
        target = find_integration(integration)
        report = connection.test_connection(target)
        audited(
            "test_connection",
            AuditAction.CONNECTION_TESTED,
            target,
            "Connection test: " + ("ok" if report.ok else "failed"),
        )
        self.stdout.write(f"{target}: {'ok' if report.ok else 'FAILED'}")
        if report.account:
            self.stdout.write(f"account: {report.account}")
        if report.region:
            self.stdout.write(f"region: {report.region}")
        self.stdout.write(f"can write: {yes_no(report.can_write)}")
        if report.detail:
            self.stdout.write(f"detail: {report.detail}")
        if report.permissions:
            self.stdout.write("permissions:")
            for name, allowed in report.permissions.items():
                self.stdout.write(f"  {name}: {yes_no(allowed)}")
        if not report.ok:
            raise CommandError(f"{target}: the connection test failed: {report.detail}")
