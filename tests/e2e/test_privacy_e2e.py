"""Privacy requests end to end: nine platforms connected to the sandbox over real HTTP, a
deletion that erases the reader everywhere (and nothing recreates them), an access request
whose bundle holds what each platform returned."""

from __future__ import annotations

import io

import pytest
from django_q.conf import Conf

from audience.importing import import_subscribers
from audience.models import Subscriber
from audience.suppression import is_suppressed
from integrations.models import ApiCall, PrivacyStatus, SyncStatus, TaskState
from integrations.platforms.registry import get_platform
from integrations.platforms.types import Capability
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact
from integrations.services import privacy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLATFORMS = (
    "braze",
    "crisp",
    "customerio",
    "front",
    "iterable",
    "klaviyo",
    "mailchimp",
    "sendgrid",
)
FORGOTTEN = "reader03@example.com"
CURIOUS = "reader05@example.com"


@pytest.fixture(autouse=True)
def inline_queue(monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.PRIVACY_POLL_SECONDS = 1  # on the fake clock


@pytest.fixture
def connected(make_integration, oauth_integration, sandbox_url, e2e_clock, make_subscribers):
    make_subscribers(30)
    integrations = []
    for slug in PLATFORMS:
        registry.seed(slug)
        integrations.append(
            make_integration(
                slug,
                name=slug,
                base_url=f"{sandbox_url}/{slug}",
                region="auto" if slug == "mailchimp" else "",
                mappings=get_platform(slug).suggested_mappings,
            )
        )
    registry.seed("keap")
    integrations.append(oauth_integration("keap", base_url=f"{sandbox_url}/keap", name="keap"))
    return integrations


def holding(email: str) -> set[str]:
    """The platforms whose emulator still holds personal data of `email`."""
    found = set()
    for row in SandboxContact.objects.all():
        text = f"{row.identifier} {row.attributes}".lower()
        tombstone = row.attributes == {"permanently_deleted": True}  # Mailchimp keeps the fact
        if email in text and not tombstone:
            found.add(row.platform)
    return found


def full_syncs(integrations, run_sync):
    for integration in integrations:
        run = run_sync(integration, mode="full")
        assert run.status == SyncStatus.SUCCEEDED, (integration.platform, run.error)


def test_a_deletion_erases_the_reader_everywhere_and_nothing_recreates_them(connected, run_sync):
    full_syncs(connected, run_sync)
    assert holding(FORGOTTEN) == set(PLATFORMS) | {"keap"}

    request = privacy.open_request("deletion", FORGOTTEN, via="test")
    request = privacy.run_until_settled(request)

    tasks = {t.platform: t for t in request.tasks.all()}
    assert {p: t.state for p, t in tasks.items()} == {p: TaskState.DONE for p in tasks}, {
        p: t.reason for p, t in tasks.items()
    }
    assert tasks["sendgrid"].job_id  # followed to its end
    assert request.status == PrivacyStatus.COMPLETE
    assert holding(FORGOTTEN) == set()
    assert not Subscriber.objects.filter(email=FORGOTTEN).exists()
    assert is_suppressed(FORGOTTEN)
    assert not ApiCall.objects.filter(path__icontains="reader03").exists()

    # Neither a full sync nor a CSV import (then a sync) brings them back.
    full_syncs(connected, run_sync)
    report = import_subscribers(io.BytesIO(f"email,first_name\n{FORGOTTEN},Again\n".encode()))
    assert report.suppressed == 1
    full_syncs(connected, run_sync)
    assert holding(FORGOTTEN) == set()
    assert holding("reader04@example.com") == set(PLATFORMS) | {"keap"}  # others untouched


def test_an_access_bundle_holds_what_each_platform_returned(connected, run_sync):
    full_syncs(connected, run_sync)
    request = privacy.run_until_settled(privacy.open_request("access", CURIOUS))
    assert request.status == PrivacyStatus.COMPLETE
    assert request.bundle["sharpsend"]["subscriber"]["email"] == CURIOUS
    platforms = {p["platform"]: p for p in request.bundle["platforms"]}
    assert set(platforms) == set(PLATFORMS) | {"keap"}
    assert all(get_platform(slug).supports(Capability.EXPORT_CONTACT) for slug in platforms)
    for slug, part in platforms.items():
        assert part["state"] == TaskState.DONE, (slug, part["detail"])
        assert privacy.holds_data(part["data"]), slug
        assert CURIOUS in str(part["data"]).lower(), slug
    assert holding(CURIOUS) == set(PLATFORMS) | {"keap"}  # an access request changes nothing
