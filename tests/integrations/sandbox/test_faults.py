"""Connection faults of the emulators: timeouts, resets, truncations, before or after the
request is processed, configured as shares of requests or asked for by X-Sandbox-Fault."""

from __future__ import annotations

import socket
import types

import orjson
import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from integrations.sandbox import emulation


@pytest.fixture
def holds(monkeypatch):
    """The seconds each timed-out request was held (nothing really waits)."""
    held: list[float] = []
    monkeypatch.setattr(emulation, "hold", held.append)
    return held


def draws(monkeypatch, *values):
    values = iter(values)
    monkeypatch.setattr(emulation, "random", types.SimpleNamespace(random=lambda: next(values)))


def post(fault: str = ""):
    headers = {"HTTP_X_SANDBOX_FAULT": fault} if fault else {}
    return RequestFactory().post("/", data=b"{}", content_type="application/json", **headers)


class FakeSocket:
    def __init__(self):
        self.shut = []

    def shutdown(self, how):
        self.shut.append(how)


def served_over(sock):
    """A request whose WSGI input sits on `sock` as the dev server's does (LimitedStream over
    LimitedStream over the socket's buffered reader)."""
    reader = types.SimpleNamespace(raw=types.SimpleNamespace(_sock=sock), read=None)
    inner = types.SimpleNamespace(_read=types.SimpleNamespace(__self__=reader))
    outer = types.SimpleNamespace(_read=types.SimpleNamespace(__self__=inner))
    request = post()
    request.META["wsgi.input"] = outer
    return request


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("timeout", ("timeout", "before")),
        ("Reset:After", ("reset", "after")),
        ("truncate:before", ("truncate", "before")),
        ("503", ("503", "before")),
        ("429", ("429", "before")),
        ("reset:later", None),
        ("teapot", None),
        ("", None),
    ],
)
def test_the_fault_header(value, expected):
    assert emulation.requested_fault(post(value)) == expected
    assert emulation.requested_fault(None) is None


@pytest.mark.django_db
class TestConfiguredConnectionFaults:
    def test_no_draw_without_connection_faults(self, monkeypatch):
        # Benchmarks and tests that script random() see exactly the draws they did before.
        emulation.set_faults("customerio", error_rate=0.5)
        draws(monkeypatch, 0.9)
        assert emulation.injected_fault("customerio", {}, post()) is None

    def test_one_draw_picks_timeout_reset_or_truncation(self, monkeypatch, holds, settings):
        settings.PLATFORM_HTTP_TIMEOUT = 0.5
        emulation.set_faults("customerio", timeout_rate=0.1, reset_rate=0.2, truncate_rate=0.3)
        draws(monkeypatch, 0.05, 0.25, 0.55, 0.61)
        assert emulation.injected_fault("customerio", {}, post()).status_code == 504
        assert holds == [1.5]  # a little longer than the client waits
        assert emulation.injected_fault("customerio", {}, post()).status_code == 444
        truncated = emulation.injected_fault("customerio", {}, post())
        assert (truncated.status_code, truncated["Content-Type"]) == (200, "application/json")
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(truncated.content)
        assert emulation.injected_fault("customerio", {}, post()) is None

    def test_throttle_rate(self, monkeypatch):
        emulation.set_faults("customerio", throttle_rate=0.25, retry_after=2)
        draws(monkeypatch, 0.2, 0.3)
        throttled = emulation.injected_fault("customerio", {"meta": {}}, post())
        assert (throttled.status_code, throttled["Retry-After"]) == (429, "2")
        assert emulation.injected_fault("customerio", {}, post()) is None

    def test_the_hold_is_bounded(self, monkeypatch, holds):
        emulation.set_faults("customerio", timeout_rate=1.0, timeout_seconds=3600)
        draws(monkeypatch, 0.0)
        emulation.injected_fault("customerio", {}, post())
        assert holds == [emulation.MAX_HOLD_SECONDS]

    def test_after_lets_the_request_be_processed_first(self, monkeypatch):
        emulation.set_faults("customerio", truncate_rate=1.0, fault_phase="after")
        draws(monkeypatch, 0.0)
        request = post()
        assert emulation.injected_fault("customerio", {}, request) is None
        answer = HttpResponse(orjson.dumps({"errors": [{"batch_index": 3}]}), status=207)
        cut = emulation.after_answer(request, answer)
        assert cut.status_code == 200
        assert cut.content == answer.content[: len(answer.content) // 2]

    def test_either_phase_is_drawn(self, monkeypatch):
        emulation.set_faults("customerio", reset_rate=1.0, fault_phase="either")
        draws(monkeypatch, 0.0, 0.3, 0.0, 0.7)
        after = post()
        assert emulation.injected_fault("customerio", {}, after) is None
        assert after.sandbox_fault_after[0] == "reset"
        assert emulation.injected_fault("customerio", {}, post()).status_code == 444

    def test_timeout_after_holds_then_gives_the_real_answer(self, monkeypatch, holds):
        emulation.set_faults("customerio", timeout_rate=1.0, timeout_seconds=2, fault_phase="after")
        draws(monkeypatch, 0.0)
        request = post()
        assert emulation.injected_fault("customerio", {}, request) is None
        answer = HttpResponse(status=200)
        assert emulation.after_answer(request, answer) is answer
        assert holds == [2.0]

    def test_without_a_fault_the_answer_is_untouched(self):
        answer = HttpResponse(status=200)
        assert emulation.after_answer(post(), answer) is answer


@pytest.mark.django_db
class TestRequestedFaults:
    def test_honoured_without_configured_faults(self, holds):
        assert emulation.injected_fault("kit", {}, post("timeout")).status_code == 504
        assert emulation.injected_fault("kit", {}, post("503")).status_code == 503
        throttled = emulation.injected_fault("kit", {"error": "slow"}, post("429"))
        assert throttled.status_code == 429 and throttled["Retry-After"] == "1"
        assert orjson.loads(throttled.content) == {"error": "slow"}

    def test_uses_the_configured_hold_and_retry_after(self, holds):
        emulation.set_faults("kit", timeout_seconds=0.7, retry_after=4)
        emulation.injected_fault("kit", {}, post("timeout"))
        assert holds == [0.7]
        assert emulation.injected_fault("kit", {}, post("429"))["Retry-After"] == "4"

    def test_after_is_remembered_on_the_request(self):
        request = post("truncate:after")
        assert emulation.injected_fault("kit", {}, request) is None
        cut = emulation.after_answer(request, HttpResponse(status=200))
        assert cut.status_code == 200
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(cut.content)


def test_a_reset_closes_the_socket_under_the_request():
    sock = FakeSocket()
    dropped = emulation.drop_connection(served_over(sock))
    assert sock.shut == [socket.SHUT_RDWR]
    assert dropped.status_code == 444  # never delivered: the socket is closed


def test_a_reset_without_a_socket_is_a_444():
    assert emulation.drop_connection(post()).status_code == 444
    assert emulation.drop_connection(None).status_code == 444
