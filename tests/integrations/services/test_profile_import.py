"""The profile import service: a platform's contacts read into SharpSend page by page.

The platform is Mailchimp behind `responses` (its list-members pages exactly as the fact sheet
gives them), so each test decides what the platform holds, malformed profiles included.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from responses import matchers

from audience.models import Subscriber, SubscriberStatus
from audience.profiles import ConflictPolicy
from audience.suppression import suppress
from integrations.models import (
    ApiCall,
    ApiFeature,
    Outcome,
    SyncKind,
    SyncRecord,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)
from integrations.platforms.mailchimp import profiles as mailchimp_profiles
from integrations.services import queue, sync
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("fake_clock")

URL = "https://us6.api.mailchimp.com/3.0/lists/abc123/members"
FIELDS = (
    "members.id,members.email_address,members.status,members.merge_fields,"
    "members.timestamp_signup,total_items"
)
MAPPINGS = [
    ("email", "email", "", True),
    ("first_name", "FNAME", "", False),
    ("last_name", "LNAME", "", False),
    ("attributes.interest", "INTEREST", "", False),
    ("attributes.plan", "PLAN", "lower", False),  # not reversible: never read back
    ("status", "status", "", False),
]


class WorkerDied(BaseException):
    """Stands for the process being killed: nothing in the service may catch it."""


@pytest.fixture
def integration(make_integration):
    return make_integration(
        "mailchimp",
        region="auto",
        credentials={"api_key": "0123456789abcdef0123456789abcdef-us6", "list_id": "abc123"},
        mappings=MAPPINGS,
    )


def member(email, status="subscribed", **merge):
    return {"id": f"id-{email}", "email_address": email, "status": status, "merge_fields": merge}


def serve(rsps, *pages, per_page=1000, skip=0):
    """Register the platform's pages (lists of members), offset-paged as Mailchimp pages;
    the first `skip` pages are not served (a resumed import must not ask for them)."""
    total = sum(len(page) for page in pages)
    offset = 0
    for number, page in enumerate(pages):
        query = {"count": str(per_page), "offset": str(offset), "fields": FIELDS}
        if number >= skip:
            rsps.get(
                URL,
                match=[matchers.query_param_matcher(query)],
                json={"members": page, "total_items": total},
            )
        offset += len(page)


def run_import(integration, policy: str = "") -> SyncRun:
    run, created = sync.start_sync(
        integration, SyncTrigger.COMMAND, kind=SyncKind.IMPORT, conflict_policy=policy
    )
    assert created
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    return run


def reader(email) -> Subscriber:
    return Subscriber.objects.get(email=email)


def test_new_profiles_are_created_with_their_state_names_and_mapped_attributes(integration):
    with strict() as rsps:
        serve(
            rsps,
            [
                member("Ada@Example.com", FNAME="Ada", LNAME="Lovelace", INTEREST="growth"),
                member("bob@example.com", "unsubscribed", FNAME="Bob", PLAN="Gold"),
                member("cleo@example.com", "cleaned"),
            ],
        )
        run = run_import(integration)
    assert run.status == SyncStatus.SUCCEEDED and run.kind == SyncKind.IMPORT
    assert (run.seen, run.created, run.updated, run.unchanged, run.excluded) == (3, 3, 0, 0, 0)
    ada = reader("ada@example.com")  # stored normalised
    assert (ada.first_name, ada.last_name, ada.status) == ("Ada", "Lovelace", "subscribed")
    assert ada.attributes == {"interest": "growth"}
    bob = reader("bob@example.com")
    assert bob.status == SubscriberStatus.UNSUBSCRIBED
    assert bob.attributes == {}  # PLAN is mapped through a lower-case transform: not read back
    assert reader("cleo@example.com").status == SubscriberStatus.CLEANED
    assert run.api_calls == 1 and run.cursor == 1 and run.remote_cursor == ""
    (call,) = ApiCall.objects.filter(integration=integration)
    assert call.feature == ApiFeature.PROFILES  # usage by feature tells imports apart
    integration.refresh_from_db()
    assert integration.status == "connected" and integration.last_success_at is not None


def test_pending_and_transactional_members_are_not_created_but_update_known_readers(
    integration,
):
    Subscriber.objects.create(email="known@example.com", first_name="")
    with strict() as rsps:
        serve(
            rsps,
            [
                member("pending@example.com", "pending", FNAME="P"),
                member("known@example.com", "transactional", FNAME="Kim"),
            ],
        )
        run = run_import(integration, ConflictPolicy.FILL_BLANKS)
    assert (run.created, run.updated, run.excluded) == (0, 1, 1)
    assert not Subscriber.objects.filter(email="pending@example.com").exists()
    known = reader("known@example.com")
    assert known.first_name == "Kim" and known.status == SubscriberStatus.SUBSCRIBED


@pytest.fixture
def ada():
    return Subscriber.objects.create(
        email="ada@example.com",
        first_name="Ada",
        last_name="",
        attributes={"interest": "growth"},
    )


PLATFORM_ADA = member(
    "ada@example.com", FNAME="Adeline", LNAME="King", INTEREST="dividends", PLAN="Gold"
)


@pytest.mark.parametrize(
    ("policy", "first_name", "last_name", "interest", "outcome"),
    [
        (ConflictPolicy.SHARPSEND_WINS, "Ada", "", "growth", "unchanged"),
        (ConflictPolicy.PLATFORM_WINS, "Adeline", "King", "dividends", "updated"),
        (ConflictPolicy.FILL_BLANKS, "Ada", "King", "growth", "updated"),
    ],
)
def test_known_readers_follow_the_conflict_policy(
    integration, ada, policy, first_name, last_name, interest, outcome
):
    with strict() as rsps:
        serve(rsps, [PLATFORM_ADA])
        run = run_import(integration, policy)
    ada.refresh_from_db()
    assert (ada.first_name, ada.last_name, ada.attributes["interest"]) == (
        first_name,
        last_name,
        interest,
    )
    assert getattr(run, outcome) == 1 and run.created == 0
    assert run.conflict_policy == policy


def test_the_integrations_policy_applies_when_the_run_names_none(integration, ada):
    integration.conflict_policy = ConflictPolicy.PLATFORM_WINS
    integration.save()
    with strict() as rsps:
        serve(rsps, [PLATFORM_ADA])
        run_import(integration)
    ada.refresh_from_db()
    assert ada.first_name == "Adeline"


def test_an_update_moves_updated_at_so_the_next_changed_only_sync_sends_it(integration, ada):
    before = ada.updated_at
    with strict() as rsps:
        serve(rsps, [PLATFORM_ADA])
        run_import(integration, ConflictPolicy.PLATFORM_WINS)
    ada.refresh_from_db()
    assert ada.updated_at > before


@pytest.mark.parametrize("policy", ConflictPolicy.values)
@pytest.mark.parametrize(
    "opted_out", [SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, "complained"]
)
def test_a_reader_opted_out_in_sharpsend_stays_opted_out_whatever_the_platform_says(
    integration, policy, opted_out
):
    Subscriber.objects.create(email="gone@example.com", status=opted_out)
    with strict() as rsps:
        serve(rsps, [member("gone@example.com", "subscribed", FNAME="Back")])
        run_import(integration, policy)
    assert reader("gone@example.com").status == opted_out


@pytest.mark.parametrize("policy", ConflictPolicy.values)
def test_an_opt_out_on_the_platform_is_taken_in_whatever_the_policy(integration, policy):
    Subscriber.objects.create(email="left@example.com")
    with strict() as rsps:
        serve(rsps, [member("left@example.com", "unsubscribed")])
        run = run_import(integration, policy)
    assert reader("left@example.com").status == SubscriberStatus.UNSUBSCRIBED
    assert run.updated == 1


def test_suppressed_emails_are_never_recreated_nor_updated(integration):
    suppress("forgotten@example.com")
    with strict() as rsps:
        serve(
            rsps,
            [
                member("Forgotten@Example.com", FNAME="F" * 200),  # malformed, yet unrecorded
                member("new@example.com"),
            ],
        )
        run = run_import(integration)
    assert not Subscriber.objects.filter(email="forgotten@example.com").exists()
    assert (run.seen, run.created, run.excluded) == (2, 1, 1)
    assert run.status == SyncStatus.SUCCEEDED
    assert not SyncRecord.objects.filter(email__icontains="forgotten").exists()


def test_malformed_profiles_are_recorded_one_by_one_and_the_rest_imported(integration):
    long_name = "N" * 151
    with strict() as rsps:
        serve(
            rsps,
            [
                {"id": "no-email", "status": "subscribed", "merge_fields": {}},
                member("not-an-email", FNAME="X"),
                member("nul\x00@example.com"),  # stored escaped: PostgreSQL refuses NUL
                member("ok@example.com", FNAME="Ok"),
                member("long@example.com", FNAME=long_name),
                member("nul@example.com", INTEREST="bad\x00value"),
            ],
        )
        run = run_import(integration)
    assert run.status == SyncStatus.PARTIAL
    assert (run.seen, run.created, run.rejected_data, run.failed) == (6, 1, 5, 5)
    records = {r.code: r for r in SyncRecord.objects.filter(run=run)}
    assert set(records) == {"missing_email", "invalid_email", "value_too_long", "nul_character"}
    assert all(r.outcome == Outcome.REJECTED_DATA and r.hint for r in records.values())
    assert "no-email" in records["missing_email"].message  # the platform's id names it
    invalid = SyncRecord.objects.filter(run=run, code="invalid_email")
    assert set(invalid.values_list("email", flat=True)) == {"not-an-email", "nul\\x00@example.com"}
    assert set(Subscriber.objects.values_list("email", flat=True)) == {"ok@example.com"}
    integration.refresh_from_db()
    assert "profile import was partial" in integration.last_error


def test_a_malformed_profile_of_a_known_reader_is_linked_to_them(integration, ada):
    with strict() as rsps:
        serve(rsps, [member("ada@example.com", FNAME="A" * 200)])
        run = run_import(integration, ConflictPolicy.PLATFORM_WINS)
    record = SyncRecord.objects.get(run=run)
    assert record.subscriber == ada and record.code == "value_too_long"
    ada.refresh_from_db()
    assert ada.first_name == "Ada"


def test_the_same_email_twice_in_a_page_makes_one_reader(integration):
    with strict() as rsps:
        serve(
            rsps,
            [member("twice@example.com", FNAME="One"), member("TWICE@example.com", LNAME="Two")],
        )
        run = run_import(integration, ConflictPolicy.FILL_BLANKS)
    twice = reader("twice@example.com")
    assert (twice.first_name, twice.last_name) == ("One", "Two")
    assert (run.seen, run.created, run.updated) == (2, 1, 1)


def test_pages_are_read_until_the_last_each_one_checkpointed(integration, monkeypatch):
    monkeypatch.setattr(mailchimp_profiles, "PROFILES_PER_PAGE", 2)
    pages = [[member(f"r{p}{i}@example.com") for i in range(2)] for p in range(3)]
    with strict() as rsps:
        serve(rsps, *pages, per_page=2)
        run = run_import(integration)
    assert (run.seen, run.created, run.cursor, run.api_calls) == (6, 6, 3, 3)
    assert Subscriber.objects.count() == 6


def test_a_crash_mid_page_resumes_from_the_checkpoint_without_loss_or_double_counting(
    integration, monkeypatch
):
    monkeypatch.setattr(mailchimp_profiles, "PROFILES_PER_PAGE", 2)
    pages = [
        [member("a1@example.com"), member("a2@example.com")],
        [member("b1@example.com"), member("bad")],
        [member("c1@example.com")],
    ]
    real_bulk_create = Subscriber.objects.bulk_create
    writes = []

    def dies_on_the_second_page(objs, *args, **kwargs):
        writes.append(list(objs))
        if len(writes) == 2:
            Subscriber.objects.create(email="half-written@example.com")  # rolled back with it
            raise WorkerDied
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(Subscriber.objects, "bulk_create", dies_on_the_second_page)
    with strict(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, *pages, per_page=2)
        first, _ = sync.start_sync(integration, SyncTrigger.COMMAND, kind=SyncKind.IMPORT)
        with pytest.raises(WorkerDied):
            sync.execute_sync(first.pk)
    first.refresh_from_db()
    # Page 1 is committed with its counts and the cursor of page 2; nothing of page 2 is.
    assert first.status == SyncStatus.RUNNING
    assert (first.seen, first.created, first.cursor, first.remote_cursor) == (2, 2, 1, "2")
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "a1@example.com",
        "a2@example.com",
    }
    assert not SyncRecord.objects.exists()

    monkeypatch.setattr(Subscriber.objects, "bulk_create", real_bulk_create)
    SyncRun.objects.filter(pk=first.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with strict() as rsps:
        serve(rsps, *pages, per_page=2, skip=1)  # page 1 is never asked for again
        second, created = sync.start_sync(integration, SyncTrigger.COMMAND, kind=SyncKind.IMPORT)
        assert created and second.resumed_from_id == first.pk
        assert second.trigger == SyncTrigger.RESUME
        sync.execute_sync(second.pk)
    second.refresh_from_db()
    first.refresh_from_db()
    assert first.status == SyncStatus.INTERRUPTED
    assert second.status == SyncStatus.PARTIAL
    assert (second.seen, second.created, second.rejected_data, second.cursor) == (3, 2, 1, 3)
    assert first.seen + second.seen == 5 and first.created + second.created == 4
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "a1@example.com",
        "a2@example.com",
        "b1@example.com",
        "c1@example.com",
    ]
    assert SyncRecord.objects.filter(email="bad").count() == 1


def test_a_run_resumed_after_its_last_page_was_committed_reads_nothing(integration):
    done = SyncRun.objects.create(
        integration=integration,
        kind=SyncKind.IMPORT,
        trigger=SyncTrigger.COMMAND,
        status=SyncStatus.INTERRUPTED,
        cursor=4,
        remote_cursor="",
    )
    with strict():  # no request may leave
        run, created = sync.start_sync(integration, SyncTrigger.RESUME, kind=SyncKind.IMPORT)
        assert created and run.resumed_from == done
        sync.execute_sync(run.pk)
    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED and run.seen == 0


def test_an_import_and_a_push_of_one_integration_never_run_at_once(integration):
    push, created = sync.start_sync(integration, SyncTrigger.MANUAL)
    assert created
    active, created = sync.start_sync(integration, SyncTrigger.MANUAL, kind=SyncKind.IMPORT)
    assert not created and active == push


def test_a_failed_page_fails_the_run_with_the_platforms_reason(integration):
    with strict() as rsps:
        rsps.get(
            URL,
            status=401,
            json={"title": "API Key Invalid", "status": 401, "detail": "Your API key is bad."},
        )
        run = run_import(integration)
    assert run.status == SyncStatus.FAILED and run.error
    assert run.seen == 0 and run.cursor == 0


def test_a_platform_that_cannot_list_contacts_is_refused_with_the_reason(make_integration):
    iterable = make_integration("iterable")
    with pytest.raises(Exception, match="Iterable cannot list contacts: Iterable lists"):
        queue.enqueue_profile_import(iterable, SyncTrigger.MANUAL)
    run, _ = sync.start_sync(iterable, SyncTrigger.COMMAND, kind=SyncKind.IMPORT)
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED and "cannot list contacts" in run.error


def test_an_interrupted_import_is_resumed_by_the_housekeeping_as_an_import(
    integration, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: queued.append(args))
    SyncRun.objects.create(
        integration=integration,
        kind=SyncKind.IMPORT,
        trigger=SyncTrigger.COMMAND,
        status=SyncStatus.INTERRUPTED,
        cursor=2,
        remote_cursor="2000",
        conflict_policy=ConflictPolicy.FILL_BLANKS,
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = queue.look_after_sync_runs()
    assert done.resumed == 1
    resumed = SyncRun.objects.get(status=SyncStatus.QUEUED)
    assert resumed.kind == SyncKind.IMPORT and resumed.trigger == SyncTrigger.RESUME
    assert (resumed.cursor, resumed.remote_cursor) == (2, "2000")
    assert resumed.conflict_policy == ConflictPolicy.FILL_BLANKS
    assert queued == [("integrations.tasks.run_sync", resumed.pk)]
