"""Import subscribers from a CSV file: `manage.py import_subscribers FILE.csv`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audience.importing import ImportFileError, ImportReport, import_subscribers


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file with a header row: email (required), first_name, "
        "last_name, status (subscribed/unsubscribed/bounced/cleaned); any other column becomes "
        "a custom attribute. Existing subscribers (same email, any case) are updated. Bad rows "
        "(bad bytes, bad quoting, control characters, bad values) are listed with their line and "
        "skipped, every valid row is imported; the exit code is 0 unless the file cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8, a BOM is fine).")

    def handle(self, *args, file: str, **options):
        try:
            with open(file, "rb") as fileobj:
                report = import_subscribers(fileobj)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from None
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc.message}") from None
        self._print(report)

    def _print(self, report: ImportReport) -> None:
        self.stdout.write(
            f"{report.rows} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.errors)} skipped."
        )
        if report.suppressed:
            self.stdout.write(
                f"{report.suppressed} rows for suppressed readers (asked to be forgotten, or "
                "not to be sent to) were not imported."
            )
        if report.attribute_columns:
            self.stdout.write("Custom attributes: " + ", ".join(report.attribute_columns) + ".")
        if report.errors:
            self.stdout.write(self.style.WARNING(f"{len(report.errors)} bad rows:"))
            for error in report.errors:
                self.stdout.write(f"line {error.line}: {error.reason}")
