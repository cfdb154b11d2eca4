"""OAuth under load, over real HTTP with the sandbox Keap: a token expiring mid-sync, and two
separate processes refreshing the same connection at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from integrations.models import OAuthConnection, SyncStatus
from integrations.sandbox import store
from integrations.sandbox.models import SandboxContact, SandboxOAuthToken
from tests.processes import process_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
SLUG = "keap"


@pytest.fixture
def keap(oauth_integration, live_server, e2e_clock):
    return oauth_integration(SLUG, f"{live_server.url}/sandbox/{SLUG}")


def test_an_access_token_expiring_mid_sync_is_refreshed_and_nothing_is_lost(
    keap, make_subscribers, run_sync, monkeypatch
):
    subscribers = make_subscribers(12, unsubscribed=())
    real_upsert, writes = store.upsert, {"n": 0}

    def expire_after_a_few_writes(*args, **kwargs):
        real_upsert(*args, **kwargs)
        writes["n"] += 1
        if writes["n"] == 4:  # the platform expires the token in the middle of the run
            SandboxOAuthToken.objects.filter(platform=SLUG).update(access_expires_at=timezone.now())

    monkeypatch.setattr(store, "upsert", expire_after_a_few_writes)
    before = OAuthConnection.objects.get(integration=keap).access_token
    run = run_sync(keap)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == len(subscribers) and run.failed == 0
    assert writes["n"] >= 4  # the token did expire during the run
    assert SandboxContact.objects.filter(platform=SLUG).count() == len(subscribers)
    assert OAuthConnection.objects.get(integration=keap).access_token != before
    assert SandboxOAuthToken.objects.filter(platform=SLUG).count() == 2  # connect + one refresh


REFRESH_IN_A_PROCESS = """
import sys, time
from integrations.models import Integration, OAuthConnection
from integrations.services import oauth
integration = Integration.objects.get(pk={pk})
stale = OAuthConnection.objects.get(integration=integration).access_token
time.sleep(max(0.0, {start} - time.time()))  # both processes call refresh at the same moment
print("TOKEN", oauth.refresh(integration, stale_token=stale).access_token)
"""


def test_two_processes_refreshing_at_once_make_one_refresh_and_end_with_a_working_token(keap):
    start = time.time() + 4  # time enough for both processes to boot Django
    code = REFRESH_IN_A_PROCESS.format(pk=keap.pk, start=start)
    env = process_env()
    processes = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=90) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err[-2000:] for _, err in outputs]
    tokens = {
        line.split()[1]
        for out, _ in outputs
        for line in out.splitlines()
        if line.startswith("TOKEN")
    }
    assert len(tokens) == 1
    (token,) = tokens
    assert SandboxOAuthToken.objects.filter(platform=SLUG).count() == 2  # connect + one refresh
    live = SandboxOAuthToken.objects.get(platform=SLUG, refresh_revoked=False)
    assert live.access_token == token == OAuthConnection.objects.get(integration=keap).access_token
    # The token works: the connection test passes with it.
    assert keap.client().test_connection().ok
