"""Move each SegmentPushRun (and its SegmentPushRecords) into SyncRun (kind "segment") and
SyncRecord (with its action); the old tables are dropped by the next migration.

A run still queued or running when this runs is moved as interrupted: its task, queued under
the old task name and the old run's id, no longer runs, and the housekeeping resumes the
push from what its batches committed (no list is created twice, nothing is sent twice).
The reverse moves segment runs back into the old tables.
"""

from django.db import migrations

_COUNTS = ("unchanged", "removed", "created_remote", "rejected_data", "rejected_compliance",
           "rejected_auth", "throttled", "unknown", "api_calls", "error", "started_at",
           "heartbeat_at", "finished_at")  # fmt: skip
_RECORD = ("subscriber_id", "action", "outcome", "code", "message", "hint")
_MOVED_WHILE_ACTIVE = (
    "Moved while under way when segment pushes became runs like syncs; the console resumes "
    "it from what its batches committed."
)


def forwards(apps, schema_editor):
    SegmentPushRun = apps.get_model("integrations", "SegmentPushRun")
    SegmentPushRecord = apps.get_model("integrations", "SegmentPushRecord")
    SyncRun = apps.get_model("integrations", "SyncRun")
    SyncRecord = apps.get_model("integrations", "SyncRecord")
    old_runs = SegmentPushRun.objects.select_related("push").order_by("created_at", "id")
    for old in old_runs.iterator(chunk_size=500):
        status, error = old.status, old.error
        if status in ("queued", "running"):
            status, error = "interrupted", (error + " " + _MOVED_WHILE_ACTIVE).strip()
        new = SyncRun.objects.create(
            integration_id=old.push.integration_id,
            kind="segment",
            segment_push_id=old.push_id,
            trigger=old.trigger[:10],
            status=status,
            created=old.added,
            **{name: getattr(old, name) for name in _COUNTS if name != "error"},
            error=error,
        )
        SyncRun.objects.filter(pk=new.pk).update(created_at=old.created_at)  # auto_now_add
        SyncRecord.objects.bulk_create(
            (
                SyncRecord(run_id=new.pk, email=r.identifier, **{n: getattr(r, n) for n in _RECORD})
                for r in SegmentPushRecord.objects.filter(run=old).order_by("id").iterator()
            ),
            batch_size=1000,
        )


def backwards(apps, schema_editor):
    SegmentPushRun = apps.get_model("integrations", "SegmentPushRun")
    SegmentPushRecord = apps.get_model("integrations", "SegmentPushRecord")
    SyncRun = apps.get_model("integrations", "SyncRun")
    SyncRecord = apps.get_model("integrations", "SyncRecord")
    runs = SyncRun.objects.filter(kind="segment").order_by("created_at", "id")
    for new in runs.iterator(chunk_size=500):
        old = SegmentPushRun.objects.create(
            push_id=new.segment_push_id,
            trigger=new.trigger,
            status=new.status,
            added=new.created,
            **{name: getattr(new, name) for name in _COUNTS},
        )
        SegmentPushRun.objects.filter(pk=old.pk).update(created_at=new.created_at)
        SegmentPushRecord.objects.bulk_create(
            (
                SegmentPushRecord(
                    run_id=old.pk, identifier=r.email, **{n: getattr(r, n) for n in _RECORD}
                )
                for r in SyncRecord.objects.filter(run=new).order_by("id").iterator()
            ),
            batch_size=1000,
        )
    SyncRun.objects.filter(resumed_from__kind="segment").update(resumed_from=None)
    runs.delete()


class Migration(migrations.Migration):
    dependencies = [("integrations", "0018_segment_push_runs_are_sync_runs")]

    operations = [migrations.RunPython(forwards, backwards)]
