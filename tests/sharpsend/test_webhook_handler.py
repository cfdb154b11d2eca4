"""sharpsend/wsgi.py's application: the webhook URL through the lean handler, the rest through
the full stack (called as a WSGI server calls it, on a database in autocommit as a web request
has it; built as wsgi.py builds it, which sets Django up again when imported)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIHandler

from integrations.models import WebhookEvent, WebhookState
from integrations.models.webhooks import WEBHOOK_MAX_BODY
from integrations.sandbox import webhooks as signing
from integrations.services.webhooks import webhook_path
from sharpsend.webhook_handler import Router, WebhookHandler, is_webhook
from tests.integrations.webhooks.fixtures import integration_with_secret
from tests.integrations.webhooks.samples import SAMPLES, signing_secret

pytestmark = pytest.mark.django_db(transaction=True)
APPLICATION = Router(WSGIHandler(), WebhookHandler())


@pytest.fixture
def integration(transactional_db):
    return integration_with_secret("customerio")


def call(path: str, method: str = "GET", body: bytes = b"", headers=None, host="127.0.0.1"):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_HOST": host,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": (headers or {}).pop("Content-Type", ""),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    chunks = APPLICATION(environ, start_response)
    answer["body"] = b"".join(chunks)
    chunks.close()
    return answer


def signed_post(integration, body=None, secret=None):
    sample, content_type, _ = SAMPLES["customerio"]
    body = sample if body is None else body
    signed = signing.sign("customerio", body, secret or signing_secret("customerio"), time.time())
    headers = {"Content-Type": content_type, **signed.headers}
    return call(webhook_path(integration), "POST", body, headers)


def test_the_wsgi_entry_point_is_the_router():
    shown = subprocess.run(
        [sys.executable, "-c", "from sharpsend import wsgi; a = wsgi.application;"
         " print(type(a).__name__, type(a.webhooks).__name__, type(a.full).__name__)"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    ).stdout.split()  # fmt: skip
    assert shown == ["Router", "WebhookHandler", "WSGIHandler"]


def test_only_the_webhook_url_takes_the_lean_handler():
    assert is_webhook({"PATH_INFO": "/webhooks/3f0c5b52-aaaa-4bbb-8ccc-0123456789ab/"})
    for other in ("/webhooks/x", "/webhooks/x/y/", "/webhooks//", "/admin/", "/x/webhooks/a/"):
        assert not is_webhook({"PATH_INFO": other})


def test_a_signed_delivery_is_stored_once_and_answered_without_page_middleware(integration):
    answer = signed_post(integration)
    assert answer["status"] == 200 and json.loads(answer["body"]) == {"ok": True}
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"
    assert answer["headers"]["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in answer["headers"]  # the page middleware: not run
    assert "Set-Cookie" not in answer["headers"]
    again = signed_post(integration)  # a redelivery, byte for byte
    assert again["status"] == 200
    event = WebhookEvent.objects.get(integration=integration)
    assert event.state == WebhookState.VERIFIED and event.redeliveries == 1
    assert "X-CIO-Signature" not in event.headers


def test_the_lean_handler_refuses_as_the_full_stack_does(integration):
    assert signed_post(integration, secret="not-the-secret-at-all")["status"] == 401
    too_large = b"{" + b" " * WEBHOOK_MAX_BODY + b"}"
    assert signed_post(integration, body=too_large)["status"] == 413
    assert call("/webhooks/3f0c5b52-aaaa-4bbb-8ccc-0123456789ab/", "POST")["status"] == 404
    assert call(webhook_path(integration), "PUT")["status"] == 405
    assert call(webhook_path(integration), host="evil.example")["status"] == 400  # the host check
    rejected = WebhookEvent.objects.get(integration=integration)
    assert rejected.state == WebhookState.REJECTED


def test_other_paths_keep_the_full_stack():
    answer = call("/admin/login/")
    assert answer["status"] == 200
    assert "Content-Security-Policy" in answer["headers"]
