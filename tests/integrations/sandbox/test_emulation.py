"""What every emulator shares: rate windows, injected faults, stored contacts, demo segments."""

from __future__ import annotations

import types

import orjson
import pytest
from django.db.models import F
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from integrations.sandbox import accounts, emulation, registry, store
from integrations.sandbox.models import SandboxContact, SandboxFault, SandboxSegment


@pytest.fixture
def sandbox_time(monkeypatch):
    """Freeze the emulators' clock (rate windows) and record their latency sleeps."""
    state = types.SimpleNamespace(now=500.0, sleeps=[])
    fake = types.SimpleNamespace(
        monotonic=lambda: state.now, sleep=lambda seconds: state.sleeps.append(seconds)
    )
    monkeypatch.setattr(emulation, "time", fake)
    return state


class TestRateWindows:
    def test_sliding_window(self, sandbox_time):
        assert [emulation.over_limit("k", 3, 1.0) for _ in range(3)] == [None, None, None]
        assert emulation.over_limit("k", 3, 1.0) == pytest.approx(1.0)
        sandbox_time.now += 0.4
        assert emulation.over_limit("k", 3, 1.0) == pytest.approx(0.6)
        sandbox_time.now += 0.6  # the first three leave the window together
        assert emulation.over_limit("k", 3, 1.0) is None
        assert emulation.over_limit("k", 3, 1.0) is None
        assert emulation.over_limit("k", 3, 1.0) is None
        assert emulation.over_limit("k", 3, 1.0) is not None

    def test_refused_requests_do_not_count(self, sandbox_time):
        emulation.over_limit("k", 1, 10.0)
        for _ in range(5):
            sandbox_time.now += 1.0
            assert emulation.over_limit("k", 1, 10.0) is not None
        sandbox_time.now += 5.0  # 10 s after the one accepted request
        assert emulation.over_limit("k", 1, 10.0) is None

    def test_keys_are_independent(self, sandbox_time):
        assert emulation.over_limit("a", 1, 1.0) is None
        assert emulation.over_limit("b", 1, 1.0) is None
        assert emulation.over_limit("a", 1, 1.0) is not None

    def test_reset(self, sandbox_time):
        emulation.over_limit("k", 1, 60.0)
        assert emulation.over_limit("k", 1, 60.0) is not None
        emulation.reset_limits()
        assert emulation.over_limit("k", 1, 60.0) is None

    @pytest.mark.parametrize(("elapsed", "minimum"), [(0.0, 60), (59.5, 1), (30.0, 30)])
    def test_429_with_retry_after_covering_the_wait(self, sandbox_time, elapsed, minimum):
        assert emulation.rate_limited("k", 1, 60.0, {"error": "slow"}) is None
        sandbox_time.now += elapsed
        response = emulation.rate_limited("k", 1, 60.0, {"error": "slow"})
        assert response.status_code == 429
        assert response["Content-Type"] == "application/json"
        assert orjson.loads(response.content) == {"error": "slow"}
        retry_after = int(response["Retry-After"])
        # Waiting as told is always enough, and never a second longer than needed.
        assert minimum <= retry_after <= minimum + 1
        sandbox_time.now += retry_after
        assert emulation.rate_limited("k", 1, 60.0, {}) is None


@pytest.mark.django_db
class TestInjectedFaults:
    def test_no_fault_configured(self):
        assert emulation.injected_fault("iterable", {}) is None

    def test_throttle_next(self):
        emulation.set_faults("iterable", throttle_next=2, retry_after=9)
        first = emulation.injected_fault("iterable", {"code": "RateLimitExceeded"})
        assert first.status_code == 429
        assert first["Retry-After"] == "9"
        assert orjson.loads(first.content) == {"code": "RateLimitExceeded"}
        assert emulation.injected_fault("iterable", {}).status_code == 429
        assert emulation.injected_fault("iterable", {}) is None
        assert SandboxFault.objects.get(platform="iterable").throttle_next == 0

    def test_throttle_next_counts_down_in_the_database(self, monkeypatch):
        # Two requests read the fault row at the same moment: each uses up one 429.
        emulation.set_faults("iterable", throttle_next=2)

        def read_while_another_request_answers(queryset):
            row = queryset.first()
            SandboxFault.objects.filter(pk=row.pk).update(throttle_next=F("throttle_next") - 1)
            return row

        class RacingManager:
            def filter(self, **lookups):
                queryset = SandboxFault.objects.filter(**lookups)
                if "platform" in lookups:
                    return types.SimpleNamespace(
                        first=lambda: read_while_another_request_answers(queryset)
                    )
                return queryset

        with monkeypatch.context() as patch:
            patch.setattr(emulation, "SandboxFault", types.SimpleNamespace(objects=RacingManager()))
            assert emulation.injected_fault("iterable", {}).status_code == 429
        assert SandboxFault.objects.get(platform="iterable").throttle_next == 0

    def test_error_rate(self, monkeypatch):
        emulation.set_faults("customerio", error_rate=1.0)
        response = emulation.injected_fault("customerio", {})
        assert response.status_code == 503
        emulation.set_faults("customerio", error_rate=0.5)
        monkeypatch.setattr(emulation.random, "random", lambda: 0.49)
        assert emulation.injected_fault("customerio", {}).status_code == 503
        monkeypatch.setattr(emulation.random, "random", lambda: 0.5)
        assert emulation.injected_fault("customerio", {}) is None
        emulation.set_faults("customerio", error_rate=0.0)
        monkeypatch.setattr(emulation.random, "random", lambda: 0.0)
        assert emulation.injected_fault("customerio", {}) is None

    def test_throttling_comes_before_errors(self):
        emulation.set_faults("customerio", throttle_next=1, error_rate=1.0)
        assert emulation.injected_fault("customerio", {}).status_code == 429
        assert emulation.injected_fault("customerio", {}).status_code == 503

    def test_latency(self, sandbox_time):
        emulation.set_faults("iterable", latency_ms=40)
        assert emulation.injected_fault("iterable", {}) is None
        assert sandbox_time.sleeps == [0.04]

    def test_set_faults_updates_one_row(self):
        emulation.set_faults("iterable", error_rate=0.3)
        fault = emulation.set_faults("iterable", throttle_next=4)
        assert SandboxFault.objects.filter(platform="iterable").count() == 1
        assert (fault.error_rate, fault.throttle_next) == (0.3, 4)
        assert str(fault) == "faults for iterable"


@pytest.mark.django_db
class TestStore:
    def test_upsert_creates_and_merges(self):
        store.upsert("iterable", "acc", {"a@example.com": {"x": 1, "y": 2}}, {})
        known = store.existing("iterable", "acc", ["a@example.com", "b@example.com"])
        assert list(known) == ["a@example.com"]
        store.upsert(
            "iterable", "acc", {"a@example.com": {"y": 3}, "b@example.com": {"z": 0}}, known
        )
        rows = {c.identifier: c.attributes for c in SandboxContact.objects.all()}
        assert rows == {"a@example.com": {"x": 1, "y": 3}, "b@example.com": {"z": 0}}

    def test_accounts_and_platforms_are_apart(self):
        store.upsert("iterable", "one", {"a@example.com": {"x": 1}}, {})
        store.upsert("iterable", "two", {"a@example.com": {"x": 2}}, {})
        store.upsert("customerio", "one", {"a@example.com": {"x": 3}}, {})
        assert SandboxContact.objects.count() == 3
        assert store.existing("iterable", "two", ["a@example.com"])["a@example.com"].attributes == {
            "x": 2
        }

    def test_upsert_keeps_suppression(self):
        SandboxContact.objects.create(
            platform="iterable", account="acc", identifier="a@example.com", suppressed=True
        )
        known = store.existing("iterable", "acc", ["a@example.com"])
        store.upsert("iterable", "acc", {"a@example.com": {"x": 1}}, known)
        assert SandboxContact.objects.get().suppressed

    @pytest.mark.parametrize(
        ("value", "ok"),
        [
            ("a@example.com", True),
            ("a.b+c@sub.example.co", True),
            ("a@localhost", False),
            ("@example.com", False),
            ("a@@example.com", False),
            ("a b@example.com", False),
            ("", False),
            (None, False),
            (42, False),
        ],
    )
    def test_looks_like_email(self, value, ok):
        assert store.looks_like_email(value) is ok


class TestReadBody:
    def test_bodies_over_django_upload_limit_are_read(self, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        body = orjson.dumps({"users": ["x" * 5000]})
        request = RequestFactory().post("/x", data=body, content_type="application/json")
        assert emulation.read_body(request) == body
        assert emulation.parse_json(request) == {"users": ["x" * 5000]}

    def test_not_json(self):
        request = RequestFactory().post("/x", data=b"{nope", content_type="application/json")
        assert emulation.parse_json(request) is None


@pytest.mark.django_db
class TestSegments:
    def test_seed_every_writable_account(self):
        registry.seed("iterable")
        registry.seed("customerio")
        for platform in ("iterable", "customerio"):
            writable = {a.account for a in accounts.accounts_for(platform) if not a.read_only}
            seeded = set(
                SandboxSegment.objects.filter(platform=platform).values_list("account", flat=True)
            )
            assert seeded == writable
        assert SandboxSegment.objects.count() == 12
        registry.seed("iterable")
        assert SandboxSegment.objects.count() == 12

    def test_seeded_kinds(self):
        registry.seed("iterable")
        kinds = dict(
            SandboxSegment.objects.filter(
                platform="iterable", account="sandbox-project-us"
            ).values_list("name", "kind")
        )
        assert kinds == {
            "Growth Investors": "Dynamic",
            "Dividend Income": "Dynamic",
            "All readers": "Standard",
        }

    def test_members_follow_contacts(self):
        emulation.seed_segments("iterable", "acc", kinds=("Dynamic", "Standard"))
        growth, income, everyone = SandboxSegment.objects.filter(account="acc")
        store.upsert(
            "iterable",
            "acc",
            {
                "a@example.com": {"interest": "growth"},
                "b@example.com": {"interest": "dividends"},
                "c@example.com": {},
            },
            {},
        )
        store.upsert("iterable", "other", {"d@example.com": {"interest": "growth"}}, {})
        assert [s.members().count() for s in (growth, income, everyone)] == [1, 1, 3]
        assert list(growth.members().values_list("identifier", flat=True)) == ["a@example.com"]

    def test_registry(self):
        assert registry.emulated("iterable") and registry.emulated("customerio")
        assert not registry.emulated("no-such-platform")

    def test_demo_accounts_are_writable(self):
        for platform in ("iterable", "customerio"):
            account = accounts.demo_account(platform)
            assert not account.read_only
            assert account.region == "us"
        assert accounts.find("iterable", api_key="sandbox-iterable-readonly-key-us").read_only
        assert accounts.find("iterable", api_key="nope") is None


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain")


def _gate(steps: list, **hooks) -> emulation.Emulator:
    """A toy platform whose hooks record the order they ran in; any hook may be replaced."""

    def authenticate(request, region, **options):
        steps.append(("authenticate", region))
        key = request.headers.get("X-Key")
        return {"key": key} if key == "good" else _plain("who are you", 401)

    def step(name):
        def hook(request, caller, **options):
            steps.append((name, options.get("flag")))

        return hook

    def serve(request, caller, answer, **options):
        steps.append(("serve", caller["key"]))
        response = answer()
        response["X-Served"] = "yes"
        return response

    defaults = {
        "authenticate": authenticate,
        "admit": step("admit"),
        "limit": step("limit"),
        "after": step("after"),
        "serve": serve,
    }
    return emulation.Emulator(
        "toy", {"api.toy.test": "eu"}, "not a toy host", throttled={"toy": 429},
        **{**defaults, **hooks},
    )  # fmt: skip


@pytest.mark.django_db
class TestEmulatorGate:
    def view(self, steps):
        def view(request, caller, item: str):
            steps.append(("view", item))
            return _plain(f"{caller['key']}:{item}", 200)

        return view

    def test_every_step_in_order_then_the_view_inside_serve(self, rf):
        steps = []
        view = _gate(steps).endpoint(flag="x")(self.view(steps))
        response = view(rf.get("/", HTTP_X_KEY="good"), "api.toy.test", item="7")
        assert (response.status_code, response.content) == (200, b"good:7")
        assert response["X-Served"] == "yes"
        assert steps == [
            ("authenticate", "eu"),
            ("admit", "x"),
            ("limit", "x"),
            ("after", "x"),
            ("serve", "good"),
            ("view", "7"),
        ]

    def test_another_host_is_not_found(self, rf):
        steps = []
        view = _gate(steps).endpoint()(self.view(steps))
        with pytest.raises(Http404, match="not a toy host"):
            view(rf.get("/", HTTP_X_KEY="good"), "api.other.test", item="7")
        assert steps == []

    def test_an_undeclared_method_is_a_bare_405_before_the_host(self, rf):
        steps = []
        view = _gate(steps).endpoint(methods=("GET",))(self.view(steps))
        response = view(rf.post("/", HTTP_X_KEY="good"), "api.other.test", item="7")
        assert response.status_code == 405
        assert "Allow" not in response
        assert steps == []

    def test_the_platforms_401_stops_the_request(self, rf):
        steps = []
        view = _gate(steps).endpoint()(self.view(steps))
        response = view(rf.get("/", HTTP_X_KEY="bad"), "api.toy.test", item="7")
        assert (response.status_code, response.content) == (401, b"who are you")
        assert steps == [("authenticate", "eu")]

    def test_admit_refuses_before_faults_are_applied(self, rf):
        steps = []
        emulation.set_faults("toy", throttle_next=1, retry_after=3)
        gate = _gate(steps, admit=lambda request, caller, **_: _plain("no scope", 403))
        response = gate.endpoint()(self.view(steps))(
            rf.get("/", HTTP_X_KEY="good"), "api.toy.test", item="7"
        )
        assert response.status_code == 403
        assert SandboxFault.objects.get(platform="toy").throttle_next == 1

    def test_an_injected_429_carries_the_platforms_body_before_its_limit(self, rf):
        steps = []
        emulation.set_faults("toy", throttle_next=1, retry_after=3)
        view = _gate(steps).endpoint()(self.view(steps))
        response = view(rf.get("/", HTTP_X_KEY="good"), "api.toy.test", item="7")
        assert response.status_code == 429
        assert orjson.loads(response.content) == {"toy": 429}
        assert response["Retry-After"] == "3"
        assert steps == [("authenticate", "eu"), ("admit", None)]

    def test_the_limits_answer_stops_the_request(self, rf):
        steps = []
        gate = _gate(steps, limit=lambda request, caller, **_: _plain("slow down", 429))
        response = gate.endpoint()(self.view(steps))(
            rf.get("/", HTTP_X_KEY="good"), "api.toy.test", item="7"
        )
        assert (response.status_code, response.content) == (429, b"slow down")
        assert ("view", "7") not in steps and ("after", None) not in steps

    def test_a_hook_may_take_a_route_argument_the_view_does_not(self, rf):
        steps = []

        def after(request, caller, *, route, **_):
            return None if route.pop("list_id") == "L1" else _plain("no such list", 404)

        view = _gate(steps, after=after).endpoint()(self.view(steps))
        ok = view(rf.get("/", HTTP_X_KEY="good"), "api.toy.test", item="7", list_id="L1")
        refused = view(rf.get("/", HTTP_X_KEY="good"), "api.toy.test", item="7", list_id="L2")
        assert (ok.status_code, refused.status_code) == (200, 404)

    def test_hosts_may_be_a_function(self, rf):
        steps = []
        gate = emulation.Emulator(
            "toy",
            lambda host: host.split(".")[0] if host.endswith(".toy.test") else None,
            "not a toy host",
            authenticate=lambda request, region, **_: {"key": region},
            throttled={},
        )
        response = gate.endpoint()(self.view(steps))(rf.get("/"), "us7.toy.test", item="1")
        assert response.content == b"us7:1"
        with pytest.raises(Http404):
            gate.region("toy.example")


class TestWindowed:
    def test_each_group_of_each_account_has_its_own_window(self, rf, sandbox_time):
        limit = emulation.windowed(
            "toy", {"api": (2, 1.0), "bulk": (1, 1.0)}, {"slow": 1}, default="api"
        )
        one, two = types.SimpleNamespace(account="one"), types.SimpleNamespace(account="two")
        request = rf.get("/")
        assert [limit(request, one), limit(request, one)] == [None, None]
        refused = limit(request, one)
        assert (refused.status_code, orjson.loads(refused.content)) == (429, {"slow": 1})
        assert refused["Retry-After"] == "2"  # a full second to wait, rounded up past it
        assert limit(request, two) is None
        assert limit(request, one, group="bulk") is None
        assert limit(request, one, group="bulk").status_code == 429
