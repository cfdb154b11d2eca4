from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audience.models import AudienceSegment, Subscriber
from integrations.models import AuditEntry, SegmentPush
from integrations.sandbox.models import SandboxSegment


def run_command(*args):
    out = StringIO()
    call_command("push_segment", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_pushes_to_iterable_then_sends_nothing(make_integration, sandbox_url, fake_clock):
    for i in range(3):
        Subscriber.objects.create(email=f"r{i}@example.com", attributes={"vip": i < 2})
    AudienceSegment.objects.create(
        name="VIPs", slug="vips", rules={"field": "attributes.vip", "op": "eq", "value": True}
    )
    make_integration("iterable", name="Iterable", base_url=f"{sandbox_url}/iterable")
    out = run_command("vips", "Iterable")
    remote_id = SegmentPush.objects.get().remote_id
    assert f"VIPs → Iterable (list {remote_id}, created): Succeeded, 2 added, 0 removed" in out
    remote = SandboxSegment.objects.get(platform="iterable", static=True)
    assert {c.identifier for c in remote.members()} == {"r0@example.com", "r1@example.com"}
    again = run_command("VIPs", "Iterable")
    assert "0 added, 0 removed, 2 unchanged, 0 not accepted, 0 API calls." in again
    entry = AuditEntry.objects.filter(action="segment_push_requested").first()
    assert entry.via == "manage.py push_segment" and entry.actor is None


@pytest.mark.django_db
def test_unknown_segment_lists_them(make_integration):
    AudienceSegment.objects.create(name="VIPs", slug="vips")
    make_integration("iterable", name="Iterable")
    with pytest.raises(CommandError, match=r"No SharpSend segment (.|\n)*: VIPs \(vips\)"):
        run_command("nope", "Iterable")


@pytest.mark.django_db
def test_a_platform_without_pushes_says_why(make_integration):
    AudienceSegment.objects.create(name="VIPs", slug="vips")
    make_integration("drift", name="Drift")
    with pytest.raises(CommandError, match="Drift cannot create segment"):
        run_command("vips", "Drift")


@pytest.mark.django_db
def test_invalid_rules_are_refused_before_anything_is_sent(make_integration):
    AudienceSegment.objects.create(name="Bad", slug="bad", rules={"field": "age", "op": "eq"})
    make_integration("iterable", name="Iterable")
    with pytest.raises(CommandError, match="unknown field 'age'"):
        run_command("bad", "Iterable")
    assert not SegmentPush.objects.exists()
