"""The one URL policy: names when a base URL is saved or built, addresses on every connection."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from integrations.platforms import urlpolicy
from integrations.platforms.urlpolicy import URLRefused


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"reached")

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    """A listener on loopback, like the one the probe pointed an integration at."""
    server = HTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def session():
    return urlpolicy.guarded_session(requests.Session())


def test_a_loopback_listener_is_never_connected_to(listener, session, settings):
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_BASE_URL = "http://127.0.0.1:8000/sandbox"
    with pytest.raises(URLRefused, match="127.0.0.1, a loopback address"):
        session.get(f"http://127.0.0.1:{listener}/sandbox/iterable/api.iterable.com/x")


def test_the_configured_sandbox_origin_is_reached(listener, session, settings):
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_BASE_URL = f"http://127.0.0.1:{listener}/sandbox"
    assert session.get(f"http://127.0.0.1:{listener}/sandbox/iterable/x").text == "reached"
    settings.SANDBOX_ENABLED = False
    fresh = urlpolicy.guarded_session(requests.Session())
    with pytest.raises(URLRefused):
        fresh.get(f"http://127.0.0.1:{listener}/sandbox/iterable/x")


def test_a_published_name_rebound_to_loopback_is_refused(listener, session, monkeypatch):
    real = socket.getaddrinfo

    def rebound(host, *args, **kwargs):
        if host == "api.iterable.com":
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    with pytest.raises(URLRefused, match="api.iterable.com: it resolves to 127.0.0.1"):
        session.get(f"http://api.iterable.com:{listener}/api/users/bulkUpdate")


@pytest.mark.parametrize(
    "address, refused",
    [
        ("127.0.0.1", "a loopback"),
        ("::1", "a loopback"),
        ("::ffff:127.0.0.1", "a loopback"),
        ("169.254.169.254", "a link-local (cloud metadata)"),
        ("fe80::1%eth0", "a link-local (cloud metadata)"),
        ("10.1.2.3", "a private"),
        ("172.16.0.9", "a private"),
        ("192.168.1.1", "a private"),
        ("fd00::7", "a private"),
        ("0.0.0.0", "a private"),
        ("224.0.0.1", "a multicast"),
        ("93.184.216.34", ""),
        ("2606:4700::1111", ""),
    ],
)
def test_which_addresses_are_refused(address, refused):
    assert urlpolicy._refused_address(address) == refused


def test_a_platform_client_session_carries_the_check(db):
    from integrations.models import Integration

    integration = Integration(platform="iterable", name="x", credentials={"api_key": "k"})
    session = integration.client().session
    assert isinstance(session.get_adapter("https://api.iterable.com"), urlpolicy.PolicyAdapter)
    assert isinstance(session.get_adapter("http://127.0.0.1"), urlpolicy.PolicyAdapter)
