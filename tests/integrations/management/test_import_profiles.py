"""manage.py import_profiles, against the Mailchimp emulator over real HTTP."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audience.models import Subscriber
from integrations.models import AuditAction, AuditEntry, SyncKind, SyncRun, SyncStatus, SyncTrigger
from integrations.sandbox.models import SandboxContact

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "sandbox-audience-us6"


def run_command(*args):
    out = StringIO()
    call_command("import_profiles", *args, stdout=out)
    return out.getvalue()


def member(email, status="subscribed", **merge_fields):
    SandboxContact.objects.create(
        platform="mailchimp",
        account=ACCOUNT,
        identifier=email.lower(),
        attributes={"email_address": email, "status": status, "merge_fields": merge_fields},
    )


@pytest.fixture
def mailchimp(make_integration, sandbox_url, fake_clock):
    member("ann@example.com", FNAME="Ann", LNAME="Lee")
    member("bob@example.com", "unsubscribed", FNAME="Bob")
    return make_integration("mailchimp", name="MC sandbox", base_url=f"{sandbox_url}/mailchimp")


def test_import_by_name_creates_the_readers_and_prints_a_summary(mailchimp):
    Subscriber.objects.create(email="ann@example.com", first_name="Annie")
    out = run_command("MC sandbox")
    run = SyncRun.objects.get()
    assert (run.kind, run.trigger, run.status) == (
        SyncKind.IMPORT,
        SyncTrigger.COMMAND,
        SyncStatus.SUCCEEDED,
    )
    assert "SharpSend wins" in out  # the integration's policy
    assert (
        f"Run #{run.pk} succeeded: 2 profiles seen; created 1, updated 0, unchanged 1, "
        "skipped 0, errors 0; 1 page;"
    ) in out
    assert Subscriber.objects.get(email="ann@example.com").first_name == "Annie"
    assert Subscriber.objects.get(email="bob@example.com").status == "unsubscribed"
    entry = AuditEntry.objects.get(action=AuditAction.PROFILES_IMPORT_REQUESTED)
    assert entry.via == "manage.py import_profiles" and entry.actor is None


def test_policy_overrides_the_integrations(mailchimp):
    Subscriber.objects.create(email="ann@example.com", first_name="Annie")
    out = run_command(str(mailchimp.pk), "--policy", "platform_wins")
    assert "updated 1," in out
    assert SyncRun.objects.get().conflict_policy == "platform_wins"
    assert Subscriber.objects.get(email="ann@example.com").first_name == "Ann"


def test_malformed_profiles_are_listed_and_exit_2(mailchimp):
    member("not-an-email")
    with pytest.raises(SystemExit) as exited:
        run_command("MC sandbox")
    assert exited.value.code == 2
    run = SyncRun.objects.get()
    assert run.status == SyncStatus.PARTIAL and run.rejected_data == 1
    assert Subscriber.objects.count() == 2


def test_a_bad_policy_is_refused(mailchimp):
    with pytest.raises(CommandError, match="invalid choice"):
        run_command("MC sandbox", "--policy", "newest_wins")
    assert not SyncRun.objects.exists()


def test_a_platform_that_cannot_list_contacts_says_why(make_integration):
    make_integration("braze", name="Braze")
    with pytest.raises(CommandError, match="Braze cannot list contacts: Braze exports users"):
        run_command("Braze")
    assert not SyncRun.objects.exists()


def test_a_disabled_integration_or_one_already_running_is_not_imported(mailchimp):
    running = SyncRun.objects.create(
        integration=mailchimp, trigger=SyncTrigger.SCHEDULE, status=SyncStatus.RUNNING
    )
    with pytest.raises(CommandError, match=f"run #{running.pk} is already running"):
        run_command("MC sandbox")
    running.delete()
    mailchimp.enabled = False
    mailchimp.save()
    with pytest.raises(CommandError, match="disabled"):
        run_command("MC sandbox")
    assert not SyncRun.objects.exists()
