"""integrations/0019: segment push runs move into SyncRun (kind "segment") and their refused
changes into SyncRecord (with the action); an active run moves as interrupted (its task is
gone with the old table) so the housekeeping resumes it; the reverse moves them back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("integrations", "0018_segment_push_runs_are_sync_runs")]
AFTER = [("integrations", "0020_drop_segment_push_runs")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_push_runs_and_records_move_into_sync_runs_and_back():
    apps = _migrate(BEFORE)
    Integration = apps.get_model("integrations", "Integration")
    AudienceSegment = apps.get_model("audience", "AudienceSegment")
    SegmentPush = apps.get_model("integrations", "SegmentPush")
    OldRun = apps.get_model("integrations", "SegmentPushRun")
    OldRecord = apps.get_model("integrations", "SegmentPushRecord")
    integration = Integration.objects.create(platform="iterable", name="It", credentials={})
    segment = AudienceSegment.objects.create(name="VIPs", slug="vips", rules={})
    push = SegmentPush.objects.create(segment=segment, integration=integration, remote_id="9")
    done = OldRun.objects.create(
        push=push, trigger="command", status="partial", created_remote=True, added=5,
        removed=2, unchanged=1, rejected_compliance=1, api_calls=4,
    )  # fmt: skip
    long_ago = timezone.now() - timedelta(days=3)
    OldRun.objects.filter(pk=done.pk).update(created_at=long_ago)
    OldRecord.objects.create(run=done, identifier="gone@example.com", action="remove",
                             outcome="rejected_compliance", code="Forgotten")  # fmt: skip
    OldRun.objects.create(push=push, trigger="manual", status="running")

    apps = _migrate(AFTER)
    SyncRun = apps.get_model("integrations", "SyncRun")
    moved = SyncRun.objects.get(status="partial")
    assert (moved.kind, moved.segment_push_id, moved.integration_id) == (
        "segment",
        push.pk,
        integration.pk,
    )
    assert (moved.created, moved.removed, moved.unchanged, moved.rejected_compliance) == (
        5,
        2,
        1,
        1,
    )
    assert moved.created_remote and moved.api_calls == 4 and moved.trigger == "command"
    assert moved.created_at == long_ago
    (record,) = moved.records.all()
    assert (record.email, record.action, record.outcome, record.code) == (
        "gone@example.com",
        "remove",
        "rejected_compliance",
        "Forgotten",
    )
    active = SyncRun.objects.get(trigger="manual")
    assert active.status == "interrupted" and "resumes it" in active.error
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "integrations_segmentpushrun" not in tables

    apps = _migrate(BEFORE)  # the reverse: back into the old tables
    OldRun = apps.get_model("integrations", "SegmentPushRun")
    back = OldRun.objects.get(status="partial")
    assert (back.added, back.removed, back.push_id) == (5, 2, push.pk)
    assert back.records.get().identifier == "gone@example.com"
    assert not apps.get_model("integrations", "SyncRun").objects.filter(kind="segment").exists()

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # the latest state again
