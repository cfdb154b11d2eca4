"""Testing an integration's connection and recording the result on it."""

from __future__ import annotations

from django.utils import timezone

from integrations import metering
from integrations.models import ApiFeature, Integration, IntegrationStatus
from integrations.platforms.errors import PlatformError
from integrations.platforms.types import ConnectionReport


@metering.feature(ApiFeature.CONNECTION)
def judge_connection(integration: Integration) -> ConnectionReport:
    """Ask the platform whether these credentials work and may write (nothing is stored).

    The one place of the rule: a key that cannot write (read-only) is refused, and so is one
    of another region (the platform's test says which).
    """
    try:
        report = integration.client().test_connection()
    except PlatformError as exc:
        report = ConnectionReport(ok=False, can_write=None, detail=exc.message)
    if report.ok and report.can_write is False:
        report = ConnectionReport(
            ok=False,
            can_write=False,
            account=report.account,
            region=report.region,
            detail=report.detail or "This key is read-only: the console needs to write contacts.",
            permissions=report.permissions,
        )
    return report


def test_connection(integration: Integration) -> ConnectionReport:
    """Judge the connection and store the answer: a refused one puts the integration in
    "error" with the platform's reason."""
    report = judge_connection(integration)
    record_report(integration, report)
    integration.save(
        update_fields=["connection_report", "last_tested_at", "status", "last_error", "updated_at"]
    )
    return report


def record_report(
    integration: Integration, report: ConnectionReport, *, new_settings: bool = False
) -> None:
    """Put a connection test's answer on the integration (the caller saves it).

    The status follows the answer: a passing test connects a draft or an integration in
    error; with `new_settings` (credentials just entered and tested) it also ends "needs
    attention", whose cause was the previous credentials. A failing test is an error.
    """
    integration.connection_report = report.as_dict()
    integration.last_tested_at = timezone.now()
    if report.ok:
        if new_settings or integration.status in (
            IntegrationStatus.DRAFT,
            IntegrationStatus.ERROR,
        ):
            integration.status = IntegrationStatus.CONNECTED
        integration.last_error = ""
    else:
        integration.status = IntegrationStatus.ERROR
        integration.last_error = report.detail
