"""Profile imports end to end, over real HTTP against each emulator whose platform lists its
contacts (Mailchimp, Kit, Klaviyo, Keap, Campaign Monitor).

The audience is synced to the platform first (so the emulator holds what the platform would),
then SharpSend loses some readers and the platform's state is changed the way each platform
stores it; the import must bring the readers back with their names and attributes, take the
platform's opt-outs in, never re-subscribe a reader SharpSend holds as unsubscribed, never
recreate a suppressed one, and report the platform's malformed profile.
"""

from __future__ import annotations

import pytest

from audience.models import Subscriber, SubscriberStatus
from audience.profiles import ConflictPolicy
from audience.suppression import suppress
from integrations.models import Outcome, SyncKind, SyncRecord, SyncRun, SyncStatus, SyncTrigger
from integrations.platforms.registry import get_platform
from integrations.platforms.types import Capability
from integrations.sandbox.models import SandboxContact
from integrations.services import sync
from tests.e2e.platform_cases import CASES, SUBSCRIBED

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IMPORTING = [c for c in CASES if get_platform(c.slug).supports(Capability.LIST_CONTACTS)]


def klaviyo_marketing(consent: str, *reasons: str) -> dict:
    suppression = [{"reason": r, "timestamp": "2024-02-01T00:00:00+00:00"} for r in reasons]
    marketing = {
        "can_receive_email_marketing": not reasons,
        "consent": consent,
        "suppression": suppression,
    }
    return {"email": {"marketing": marketing}}


# How each emulator stores a contact who opted out on the platform, and one with explicit
# consent (Klaviyo's synced profiles have none: only SUBSCRIBED ones are created).
OPTED_OUT = {
    "mailchimp": {"status": "unsubscribed"},
    "kit": {"state": "cancelled"},
    "klaviyo": {"subscriptions": klaviyo_marketing("UNSUBSCRIBED", "UNSUBSCRIBE")},
    "keap": {"email_status": "LIST_UNSUBSCRIBE"},
    "campaign_monitor": {"State": "Unsubscribed"},
}
CONSENTED = {"klaviyo": {"subscriptions": klaviyo_marketing("SUBSCRIBED")}}
# A contact the platform holds that SharpSend cannot take: (identifier, attributes).
MALFORMED = {
    "mailchimp": ("not-an-email", {"email_address": "not-an-email", "status": "subscribed"}),
    "kit": ("not-an-email", {"email_address": "not-an-email", "state": "active", "fields": {}}),
    "klaviyo": ("external_id:x-42", {"external_id": "x-42", "first_name": "No email"}),
    "keap": ("9001", {"given_name": "Phone only", "phone": "+15550100"}),
    "campaign_monitor": ("not-an-email", {"EmailAddress": "not-an-email", "State": "Active"}),
}


def test_every_platform_that_lists_contacts_is_covered():
    assert {c.slug for c in IMPORTING} == set(OPTED_OUT) == set(MALFORMED)


def stored_row(case, email: str) -> SandboxContact:
    rows = SandboxContact.objects.filter(platform=case.slug, account=case.account)
    if case.stored_by:
        return rows.get(**{f"attributes__{case.stored_by}__iexact": email})
    return rows.get(identifier=email.lower())


def change_stored(case, email: str, attributes: dict) -> None:
    row = stored_row(case, email)
    row.attributes = {**row.attributes, **attributes}
    row.save(update_fields=["attributes"])


def import_profiles(integration, policy: str) -> SyncRun:
    run, created = sync.start_sync(
        integration, SyncTrigger.COMMAND, kind=SyncKind.IMPORT, conflict_policy=policy
    )
    assert created
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("case", IMPORTING, ids=str)
def test_the_platforms_profiles_come_back_into_sharpsend(
    case, case_integration, make_subscribers, run_sync
):
    integration = case_integration
    readers = make_subscribers(30, unsubscribed=(7, 19))
    synced = run_sync(integration)
    assert synced.status == SyncStatus.SUCCEEDED, synced.error
    expected = {
        r.email: (r.first_name, r.last_name, r.attributes.get("interest")) for r in readers[:3]
    }
    for reader in readers[:3]:
        change_stored(case, reader.email, CONSENTED.get(case.slug, {}))
    forgotten, left, stays_out, renamed = readers[3], readers[5], readers[6], readers[8]
    suppress(forgotten.email)
    change_stored(case, left.email, OPTED_OUT[case.slug])
    Subscriber.objects.filter(pk=stays_out.pk).update(status=SubscriberStatus.UNSUBSCRIBED)
    Subscriber.objects.filter(pk=renamed.pk).update(first_name="Local")
    Subscriber.objects.filter(pk__in=[r.pk for r in readers[:4]]).delete()
    identifier, attributes = MALFORMED[case.slug]
    SandboxContact.objects.create(
        platform=case.slug, account=case.account, identifier=identifier, attributes=attributes
    )

    run = import_profiles(integration, ConflictPolicy.SHARPSEND_WINS)

    assert run.status == SyncStatus.PARTIAL, run.error
    assert run.seen == SUBSCRIBED + 1  # every contact the platform holds, the malformed one too
    assert (run.created, run.rejected_data) == (3, 1)
    assert run.excluded == 1  # the suppressed reader
    assert run.created + run.updated + run.unchanged + run.excluded + run.failed == run.seen
    (record,) = SyncRecord.objects.filter(run=run)
    assert record.outcome == Outcome.REJECTED_DATA
    assert record.code in ("missing_email", "invalid_email")
    for email, (first_name, last_name, interest) in expected.items():
        back = Subscriber.objects.get(email=email)
        assert back.status == SubscriberStatus.SUBSCRIBED
        assert (back.first_name, back.last_name) == (first_name, last_name), case.slug
        assert back.attributes.get("interest") == interest
    assert not Subscriber.objects.filter(email=forgotten.email).exists()
    assert Subscriber.objects.get(pk=left.pk).status == SubscriberStatus.UNSUBSCRIBED
    assert Subscriber.objects.get(pk=stays_out.pk).status == SubscriberStatus.UNSUBSCRIBED
    assert Subscriber.objects.get(pk=renamed.pk).first_name == "Local"  # SharpSend wins
    assert run.api_calls >= 1 and run.cursor >= 1

    again = import_profiles(integration, ConflictPolicy.PLATFORM_WINS)
    assert again.status == SyncStatus.PARTIAL  # the malformed profile is still there
    assert again.created == 0 and again.excluded == 1
    assert Subscriber.objects.get(pk=renamed.pk).first_name == renamed.first_name
    assert Subscriber.objects.get(pk=stays_out.pk).status == SubscriberStatus.UNSUBSCRIBED
    assert not Subscriber.objects.filter(email=forgotten.email).exists()
