"""`manage.py seed_demo`: the demo audience and sandbox integrations, and which demo webhooks it
registers (not those whose signing key a person must copy by hand)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from integrations.services import queue

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_registers_the_webhooks_it_can_finish_alone(settings, monkeypatch):
    settings.SANDBOX_ENABLED = True
    queued = []  # what goes on the queue, whichever broker (ORM or Redis) is configured
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kwargs: queued.append(func))
    out = io.StringIO()
    call_command("seed_demo", "--no-sync", "--subscribers", "5",
                 "--base-url", "http://127.0.0.1:9/sandbox", stdout=out)  # fmt: skip
    lines = {line.split(":", 1)[1].split("—")[0].split(";")[0].strip(): line
             for line in out.getvalue().splitlines() if line.startswith("Sandbox integration")}  # fmt: skip
    assert "webhook registration queued" in lines["Mailchimp (sandbox)"]
    assert "webhook registration queued" in lines["Kit (sandbox)"]
    assert "its signing key is copied by hand" in lines["Customer.io (sandbox)"]
    assert "webhook" not in lines["Iterable (sandbox)"]  # made in Iterable's app: its page says how
    assert queued.count("integrations.tasks.register_webhooks") == sum(
        "registration queued" in line for line in lines.values()
    )
