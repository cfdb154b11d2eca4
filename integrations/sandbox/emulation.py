"""What every emulator shares: JSON in and out, documented rate limits, injected faults
(answers, timeouts, resets, truncations), and the gate every endpoint passes before it
answers (`Emulator`)."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from io import BytesIO
from typing import Any

import orjson
from django.conf import settings
from django.db.models import F
from django.http import Http404, HttpResponse

from integrations.sandbox.models import SandboxFault, SandboxSegment

_windows: dict[str, deque] = {}
_lock = threading.Lock()


def json_response(data, status: int = 200, headers: dict | None = None) -> HttpResponse:
    return HttpResponse(
        orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def read_body(request) -> bytes:
    """The raw request body, whatever its size.

    `request.body` refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) with
    Django's own 400 page, but the platforms take bigger ones (Iterable: 4 MB) and answer
    their own errors past their limits, so the emulators read the stream themselves.
    """
    if not hasattr(request, "_body"):
        request._body = request.read()
        request._stream = BytesIO(request._body)
    return request._body


def parse_json(request):
    """The request's JSON body, or None when it is not JSON."""
    try:
        return orjson.loads(read_body(request))
    except orjson.JSONDecodeError:
        return None


def over_limit(key: str, count: int, per_seconds: float) -> float | None:
    """Count a request against a sliding window; seconds to wait when over the limit."""
    now = time.monotonic()
    with _lock:
        window = _windows.setdefault(key, deque())
        while window and window[0] <= now - per_seconds:
            window.popleft()
        if len(window) >= count:
            return max(0.001, window[0] + per_seconds - now)
        window.append(now)
    return None


def reset_limits() -> None:
    with _lock:
        _windows.clear()


def rate_limited(key: str, count: int, per_seconds: float, body) -> HttpResponse | None:
    """A 429 with Retry-After when `key` is over `count` per `per_seconds`."""
    wait = over_limit(key, count, per_seconds)
    if wait is None:
        return None
    return json_response(body, status=429, headers={"Retry-After": str(max(1, round(wait + 0.5)))})


FAULT_HEADER = "X-Sandbox-Fault"
CONNECTION_FAULTS = ("timeout", "reset", "truncate")
ANSWER_FAULTS = ("503", "429")
# The hold of a timed-out request is real time, whatever clock the rate windows read: the
# client's socket times out in real time.
hold = time.sleep
MAX_HOLD_SECONDS = 60.0


def requested_fault(request) -> tuple[str, str] | None:
    """(kind, phase) from the request's X-Sandbox-Fault header: `timeout`, `reset`,
    `truncate`, `503` or `429`, a connection fault optionally with `:after` (or `:before`,
    the default). Tests send it on the requests that should fail; the clients never do."""
    value = request.headers.get(FAULT_HEADER, "") if request is not None else ""
    kind, _, phase = value.strip().lower().partition(":")
    if kind in ANSWER_FAULTS:
        return kind, "before"
    if kind in CONNECTION_FAULTS and phase in ("", "before", "after"):
        return kind, phase or "before"
    return None


def injected_fault(platform: str, throttled_body, request=None) -> HttpResponse | None:
    """Apply the platform's configured faults (latency, 429 bursts, random error answers,
    timeouts, resets, truncations) or the one the request's X-Sandbox-Fault header asks for.

    A connection fault "after" lets the request be processed first: it is remembered on the
    request, and `after_answer` applies it to the answer (see Emulator.endpoint).
    """
    fault = SandboxFault.objects.filter(platform=platform).first()
    requested = requested_fault(request)
    if requested is not None:
        kind, phase = requested
    elif fault is None:
        return None
    else:
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        if fault.throttle_next:
            # Counted down in the database, so concurrent requests each use up one.
            updated = SandboxFault.objects.filter(pk=fault.pk, throttle_next__gt=0).update(
                throttle_next=F("throttle_next") - 1
            )
            if updated:
                return _throttled(throttled_body, fault)
        if fault.error_rate and random.random() < fault.error_rate:
            return _error_answer(fault.error_status)
        if fault.throttle_rate and random.random() < fault.throttle_rate:
            return _throttled(throttled_body, fault)
        kind, phase = _drawn(fault)
        if kind is None:
            return None
    if kind == "429":
        return _throttled(throttled_body, fault)
    if kind == "503":
        return _error_answer(503)
    if phase == "after" and request is not None:
        request.sandbox_fault_after = (kind, _hold_seconds(fault))
        return None
    return _connection_fault(kind, request, _hold_seconds(fault), None)


def _drawn(fault: SandboxFault) -> tuple[str | None, str]:
    """The connection fault a configured share of requests gets (one draw), and its phase."""
    rates = (
        ("timeout", fault.timeout_rate),
        ("reset", fault.reset_rate),
        ("truncate", fault.truncate_rate),
    )
    if not any(rate for _, rate in rates):
        return None, ""
    draw, ceiling = random.random(), 0.0
    for kind, rate in rates:
        ceiling += rate
        if draw < ceiling:
            phase = fault.fault_phase
            if phase == "either":
                phase = "after" if random.random() < 0.5 else "before"
            return kind, phase
    return None, ""


def _throttled(body, fault: SandboxFault | None) -> HttpResponse:
    retry_after = fault.retry_after if fault is not None else 1
    return json_response(body, status=429, headers={"Retry-After": str(retry_after)})


def _error_answer(status: int) -> HttpResponse:
    reason = "Service Unavailable" if status == 503 else f"Injected error {status}"
    return HttpResponse(reason, status=status, content_type="text/plain")


def _hold_seconds(fault: SandboxFault | None) -> float:
    if fault is not None and fault.timeout_seconds is not None:
        seconds = fault.timeout_seconds
    else:
        seconds = settings.PLATFORM_HTTP_TIMEOUT + 1.0
    return min(max(seconds, 0.0), MAX_HOLD_SECONDS)


def after_answer(request, answer: HttpResponse) -> HttpResponse:
    """The answer, or what a connection fault drawn "after" makes of it."""
    pending = getattr(request, "sandbox_fault_after", None)
    if pending is None:
        return answer
    kind, seconds = pending
    return _connection_fault(kind, request, seconds, answer)


def _connection_fault(kind, request, seconds: float, answer: HttpResponse | None):
    """A timeout, reset or truncation; `answer` is the processed request's answer ("after"),
    None when the request was not processed ("before")."""
    if kind == "timeout":
        hold(seconds)  # the client has given up by now: what follows reaches no one
        return answer if answer is not None else _error_answer(504)
    if kind == "reset":
        return drop_connection(request)
    body = answer.content if answer is not None else b""
    # Cut short: half of the answer's body, or the start of one when it had none.
    cut = body[: len(body) // 2] if len(body) > 1 else b'{"errors": [{"batch_index": 0, '
    return HttpResponse(cut, status=200, content_type="application/json")


def _socket_of(stream):
    """The client's socket under a WSGI input stream (the dev server's and live_server's:
    LimitedStream → LimitedStream → the socket's buffered reader), or None."""
    for _ in range(6):
        sock = getattr(getattr(stream, "raw", None), "_sock", None)
        if sock is not None:
            return sock
        stream = getattr(getattr(stream, "_read", None), "__self__", None)
        if stream is None:
            return None
    return None


def drop_connection(request) -> HttpResponse:
    """Close the client's connection without an answer (the client sees the connection end:
    requests.ConnectionError). The returned response is never delivered: writing it to the
    closed socket fails, which the dev server logs as a broken pipe. Where no socket can be
    found (a test client), it is a 444, nginx's "closed without response"."""
    sock = _socket_of(request.META.get("wsgi.input")) if request is not None else None
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    return HttpResponse(status=444)


Hook = Callable[..., Any]


def windowed(
    platform: str, rates: Mapping[str, tuple[int, float]], body, option="group", default=None
) -> Hook:
    """A `limit` hook: each endpoint group's (requests, per seconds) for each account, with
    the plain 429 of `rate_limited`; the endpoint's option `option` names its group."""

    def limit(request, account, **options):
        group = options.get(option, default)
        count, per = rates[group]
        return rate_limited(f"{platform}:{account.account}:{group}", count, per, body)

    return limit


@dataclass(frozen=True)
class Emulator:
    """One platform's gate: the steps every endpoint of its emulator takes before answering.

    In this order: the method (a bare 405 when `methods` is given), the host (404 when it is
    not one of the platform's), `authenticate(request, region, **options)` (the caller, or the
    platform's own 401 as a response), `admit` (checks of the caller before faults: scopes,
    headers), the injected faults (a 429 carries `throttled`), `limit` (the platform's own
    429 as a response, or None), `after` (checks that the platform makes past its limit), and
    `serve(request, caller, answer, **options)` around the view (extra headers, a connection
    count). Each hook takes the endpoint's declared options as keywords, plus `route`: the
    URL's keyword arguments (a hook may pop one the view does not take).
    """

    platform: str
    hosts: Mapping[str, str] | Callable[[str], str | None]  # host → region
    not_a_host: str
    authenticate: Hook
    throttled: Any
    admit: Hook | None = None
    limit: Hook | None = None
    after: Hook | None = None
    serve: Hook | None = None

    def region(self, host: str) -> str:
        """The region `host` serves; Http404 when it is not one of the platform's hosts."""
        region = self.hosts(host) if callable(self.hosts) else self.hosts.get(host)
        if region is None:
            raise Http404(self.not_a_host)
        return region

    def gate(self, request, host: str, **options):
        """(the caller, None) when the request may be answered, else (None, the answer)."""
        options.setdefault("route", {})
        caller = self.authenticate(request, self.region(host), **options)
        if isinstance(caller, HttpResponse):
            return None, caller
        for step in (self.admit, self._fault, self.limit, self.after):
            refused = step(request, caller, **options) if step is not None else None
            if refused is not None:
                return None, refused
        return caller, None

    def _fault(self, request, caller, **options) -> HttpResponse | None:
        return injected_fault(self.platform, self.throttled, request)

    def endpoint(self, methods: tuple[str, ...] = (), **options):
        """A view `(request, caller, …)` served as `(request, host, …)` behind the gate."""

        def decorate(view):
            @wraps(view)
            def wrapper(request, host, *args, **kwargs):
                if methods and request.method not in methods:
                    return HttpResponse(status=405)
                caller, refused = self.gate(request, host, route=kwargs, **options)
                if refused is not None:
                    return refused

                def answer():
                    return view(request, caller, *args, **kwargs)

                if self.serve is None:
                    return after_answer(request, answer())
                served = self.serve(request, caller, answer, route=kwargs, **options)
                return after_answer(request, served)

            return wrapper

        return decorate


def set_faults(platform: str, **values) -> SandboxFault:
    fault, _ = SandboxFault.objects.update_or_create(platform=platform, defaults=values)
    return fault


DEMO_SEGMENTS = (
    # name, kind, attribute, value
    ("Growth Investors", "growth", "interest", "growth"),
    ("Dividend Income", "income", "interest", "dividends"),
    ("All readers", "", "", ""),
)


def seed_segments(platform: str, account: str, kinds: tuple[str, str]) -> None:
    """Give an emulated account the demo segments (`kinds`: names for rule / no rule)."""
    for index, (name, _, attribute, value) in enumerate(DEMO_SEGMENTS, start=1):
        SandboxSegment.objects.update_or_create(
            platform=platform,
            account=account,
            remote_id=index,
            defaults={
                "name": name,
                "kind": kinds[0] if attribute else kinds[1],
                "rule_attribute": attribute,
                "rule_value": value,
            },
        )
