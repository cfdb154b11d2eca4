"""Every registered platform keeps the client contract (DESIGN.md, "The platform client contract")."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import responses

from integrations.models import Integration
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import ConfigurationError, UnsupportedCapability
from integrations.platforms.registry import all_platforms, get_platform, platform_choices
from integrations.platforms.sending import NativeTest, SendSpec
from integrations.platforms.types import (
    AuthMethod,
    Capability,
    Category,
    ContactRecord,
    CredentialField,
    Limits,
    Rate,
    SegmentMember,
    TimestampFormat,
)

PLATFORMS = all_platforms()
SPEC = SendSpec("key-1", "campaign", "Issue 1", subject="Hi", html="<p>Hi</p>", segment_id="1")

# How to call each capability's methods (a capability may own several).
CALLS = {
    Capability.TEST_CONNECTION: [("test_connection", ())],
    Capability.LIST_FIELDS: [("list_fields", ())],
    Capability.UPSERT_CONTACTS: [
        ("upsert_contacts", ([ContactRecord(1, "email", "a@example.com", {})], True))
    ],
    Capability.TRACK_EVENTS: [("track_events", ([{"name": "opened"}],))],
    Capability.LIST_SEGMENTS: [("list_segments", ()), ("segment_member_count", ("1",))],
    Capability.LIST_SEGMENT_MEMBERS: [("segment_members", ("1", None))],
    Capability.LIST_CONTACTS: [("contacts_page", (None,))],
    Capability.CREATE_SEGMENT: [("create_segment", ("Readers",))],
    Capability.ADD_TO_SEGMENT: [("add_to_segment", ("1", [SegmentMember(1, "a@example.com")]))],
    Capability.REMOVE_FROM_SEGMENT: [
        ("remove_from_segment", ("1", [SegmentMember(1, "a@example.com")]))
    ],
    # send_campaign and preflight are the base's engine over plan_send (platforms/sending.py).
    Capability.SEND_CAMPAIGN: [("plan_send", (SPEC,))],
    # send_test is the base's engine over plan_send and plan_test_send.
    Capability.TEST_SEND: [("plan_test_send", (SPEC, "1", ["qa@example.com"]))],
    # trigger_journey is the base's engine over plan_journey_events and send_journey_request.
    Capability.TRIGGER_JOURNEY: [
        ("plan_journey_events", (SPEC, [])),
        ("send_journey_request", (None,)),
    ],
    Capability.CAMPAIGN_METRICS: [("campaign_metrics", ("1",))],
    Capability.DELETE_CONTACT: [("delete_contact", ("a@example.com",))],
    Capability.EXPORT_CONTACT: [("export_contact", ("a@example.com",))],
    Capability.SUPPRESS_CONTACT: [("suppress_contact", ("a@example.com",))],
    # verify_webhook is the one engine over the declared webhook_scheme (base); each platform
    # implements only its normaliser.
    Capability.WEBHOOKS: [("parse_webhook", (b"{}", "application/json", None))],
    # ensure_webhooks is the one engine over these two (platforms/webhook_registration.py).
    # The native test's send is plan_send with spec.native_test; these read and check it.
    Capability.NATIVE_AB_TEST: [
        ("native_test_problems", (NativeTest("open_rate", 0.2, 4, ()),)),
        ("native_test_result", ("1",)),
    ],
    Capability.REGISTER_WEBHOOKS: [
        ("registered_webhooks", ()),
        ("register_webhook", ("https://console.example.com/webhooks/x/", "s3cret", ("a",))),
    ],
}

platform = pytest.mark.parametrize("cls", PLATFORMS, ids=lambda cls: cls.slug)


def test_the_registry_knows_the_platforms():
    slugs = [cls.slug for cls in PLATFORMS]
    assert {"customerio", "iterable"} <= set(slugs)
    assert len(slugs) == len(set(slugs))
    assert platform_choices() == [(cls.slug, cls.label) for cls in PLATFORMS]
    for cls in PLATFORMS:
        assert get_platform(cls.slug) is cls
    with pytest.raises(LookupError):
        get_platform("nope")


def test_every_capability_has_a_call_table_entry():
    assert set(CALLS) == set(Capability)


@platform
def test_declarations(cls):
    assert issubclass(cls, PlatformClient)
    assert cls.slug and cls.slug == cls.slug.lower() and cls.slug.isidentifier()
    assert cls.label
    assert isinstance(cls.category, Category)
    assert cls.__module__ == f"integrations.platforms.{cls.slug}"


@platform
def test_credential_fields(cls):
    """Every platform has a way in: a secret credential (API key), OAuth, or both."""
    fields = cls.credential_fields
    assert all(isinstance(f, CredentialField) and f.key and f.label and f.help_text for f in fields)
    keys = [f.key for f in fields]
    assert len(keys) == len(set(keys))
    assert cls.auth_methods
    if AuthMethod.API_KEY in cls.auth_methods:
        assert any(f.secret for f in fields), "an API-key platform declares a secret credential"
    if AuthMethod.OAUTH in cls.auth_methods:
        spec = cls.oauth
        assert spec is not None and spec.authorize_url.startswith("https://")
        assert spec.token_url.startswith("https://")
        assert spec.client_auth in ("body", "basic")
    else:
        assert cls.oauth is None


@platform
def test_regions_and_hosts(cls):
    assert cls.regions
    assert cls.default_region() in cls.regions
    assert cls.hosts
    for surface, by_region in cls.hosts.items():
        assert set(by_region) == set(cls.regions), surface
        for url in by_region.values():
            parts = urlsplit(url)
            assert parts.scheme == "https" and parts.netloc, url
    assert cls.published_hosts()


@platform
def test_limits(cls):
    limits = cls.limits
    assert isinstance(limits, Limits)
    assert limits.batch_max_records >= 1
    assert limits.batch_max_bytes > 0
    assert 0 < limits.record_max_bytes <= limits.batch_max_bytes
    assert isinstance(limits.timestamp_format, TimestampFormat)
    for surface in cls.hosts:
        assert isinstance(limits.rates.get(surface), Rate), f"no rate for surface {surface}"
    for rate in limits.rates.values():
        assert rate.count > 0 and rate.per_seconds > 0 and rate.burst >= 1


@platform
def test_identifiers_and_suggested_mappings(cls):
    assert cls.identifier_fields
    identifiers = [m for m in cls.suggested_mappings if m[3]]
    assert len(identifiers) == 1
    assert identifiers[0][1] in cls.identifier_fields
    targets = [m[1] for m in cls.suggested_mappings]
    assert len(targets) == len(set(targets))


@platform
def test_capabilities_are_declared_consistently(cls):
    assert cls.capabilities
    assert all(isinstance(c, Capability) for c in cls.capabilities)
    assert Capability.TEST_CONNECTION in cls.capabilities
    # A reason is given only for what is missing.
    assert not set(cls.unsupported_reasons) & set(cls.capabilities)
    for capability in Capability:
        assert cls.supports(capability) is (capability in cls.capabilities)


def defined_by(cls, name):
    """The class of `cls`'s MRO whose body defines the method `name`."""
    return next(klass for klass in cls.__mro__ if name in vars(klass))


@platform
def test_declared_capabilities_are_implemented(cls):
    for capability in cls.capabilities:
        for name, _ in CALLS[capability]:
            assert getattr(cls, name) is not getattr(PlatformClient, name), (
                f"{cls.slug} declares {capability.value} but does not implement {name}"
            )
            owner = defined_by(cls, name)
            assert owner not in PlatformClient.__mro__ and issubclass(owner, PlatformClient), (
                f"{cls.slug}.{name} comes from {owner.__name__}, not the platform"
            )


@platform
def test_undeclared_capabilities_are_left_to_the_base_stub(cls):
    """What a platform cannot do is said by its declarations, not by overriding the stub."""
    for capability in set(Capability) - set(cls.capabilities):
        for name, _ in CALLS[capability]:
            assert getattr(cls, name) is getattr(PlatformClient, name), (
                f"{cls.slug} overrides {name} but does not declare {capability.value}"
            )


@platform
def test_unsupported_reasons_are_sentences_for_the_message(cls):
    for capability, reason in cls.unsupported_reasons.items():
        assert isinstance(capability, Capability)
        assert isinstance(reason, str) and reason.strip(), f"{cls.slug}: empty reason"
        assert not reason.endswith("."), f"{cls.slug}: the message adds the full stop"


@platform
def test_undeclared_capabilities_raise_unsupported_from_the_base(cls, db, fake_clock):
    integration = Integration.objects.create(
        platform=cls.slug,
        name=f"contract {cls.slug}",
        region=cls.default_region(),
        credentials={f.key: f"test-{f.key}-value" for f in cls.credential_fields},
    )
    client = cls(integration)
    missing = [c for c in Capability if c not in cls.capabilities]
    # No request may leave: anything that tried would hit an unregistered URL.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for capability in missing:
            for name, args in CALLS[capability]:
                with pytest.raises(UnsupportedCapability) as caught:
                    getattr(client, name)(*args)
                message = caught.value.message
                assert caught.value.kind == "unsupported"
                assert message == cls.unsupported(capability).message
                prefix = f"{cls.label} cannot {capability.label.lower()}: "
                assert message.startswith(prefix), message
                reason = message.removeprefix(prefix).removesuffix(".")
                assert reason.strip(), f"{cls.slug}: no reason for {capability.value}"
                declared = cls.unsupported_reasons.get(capability)
                if declared:
                    assert reason == declared
        assert len(rsps.calls) == 0


@platform
def test_send_methods_are_declared_with_the_capability(cls, db, fake_clock):
    keys = [m.key for m in cls.send_methods]
    assert len(keys) == len(set(keys))
    if not cls.supports(Capability.SEND_CAMPAIGN):
        assert not cls.send_methods
        integration = Integration(platform=cls.slug, name="x", region=cls.default_region())
        client = cls(integration)
        with pytest.raises(UnsupportedCapability):
            client.send_campaign(SPEC)
        assert client.preflight(SPEC) == [cls.unsupported(Capability.SEND_CAMPAIGN).message]
    else:
        assert cls.send_methods, f"{cls.slug} sends campaigns but declares no send method"


@platform
def test_check_base_url(cls, settings):
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_BASE_URL = "http://127.0.0.1:8000/sandbox"
    cls.check_base_url("")
    for host in cls.published_hosts():
        cls.check_base_url(f"https://{host}")
        cls.check_base_url(f"https://{host}/")
    cls.check_base_url(f"http://127.0.0.1:8000/sandbox/{cls.slug}")
    cls.check_base_url(f"http://127.0.0.1:8000/sandbox/{cls.slug}/")
    for host in cls.published_hosts():
        with pytest.raises(ConfigurationError):
            cls.check_base_url(f"http://{host}")
        with pytest.raises(ConfigurationError):
            cls.check_base_url(f"https://user:pass@{host}")
    for bad in (
        "https://evil.example.com",
        "https://api.example.com",
        f"http://127.0.0.1:8000/sandbox/not-{cls.slug}",
        # Only the configured sandbox origin: the probe's redirections of a stored key.
        f"http://localhost:8000/sandbox/{cls.slug}",
        f"http://127.0.0.1:9999/sandbox/{cls.slug}",
        f"https://127.0.0.1:8000/sandbox/{cls.slug}",
        f"http://169.254.169.254/sandbox/{cls.slug}",
        f"http://10.0.0.8/sandbox/{cls.slug}",
        f"http://listener.example/sandbox/{cls.slug}",
        f"gopher://127.0.0.1:8000/sandbox/{cls.slug}",
        f"file:///etc/sandbox/{cls.slug}",
        f"javascript:alert(1)//sandbox/{cls.slug}",
        f"http://u:p@127.0.0.1:8000/sandbox/{cls.slug}",
        f"http://127.0.0.1:8000/sandbox/{cls.slug}?next=http://evil.example",
        "https://[::1",
        "http://[zz::1]/",
        "https://api.example.com:notaport",
    ):
        with pytest.raises(ConfigurationError):
            cls.check_base_url(bad)
    settings.SANDBOX_ENABLED = False
    with pytest.raises(ConfigurationError):
        cls.check_base_url(f"http://127.0.0.1:8000/sandbox/{cls.slug}")


@platform
def test_every_surface_and_region_resolves_a_base_url(cls, db):
    for region in cls.regions:
        integration = Integration(platform=cls.slug, name="x", region=region, credentials={})
        client = cls(integration)
        for surface, by_region in cls.hosts.items():
            assert client.base_url(surface) == by_region[region]


@platform
def test_privacy_hooks_follow_the_declarations(cls, db, fake_clock):
    """request_deletion of a platform that cannot delete says why (no request leaves); only a
    platform whose deletion is asynchronous follows jobs."""
    assert cls.deletion_mode in ("sync", "async")
    if cls.privacy_job_status is not PlatformClient.privacy_job_status:
        assert cls.deletion_mode == "async" and cls.supports(Capability.DELETE_CONTACT)
    if cls.request_deletion is not PlatformClient.request_deletion:
        assert cls.supports(Capability.DELETE_CONTACT)
    if cls.supports(Capability.DELETE_CONTACT):
        return
    integration = Integration.objects.create(
        platform=cls.slug,
        name=f"privacy {cls.slug}",
        region=cls.default_region(),
        credentials={f.key: f"test-{f.key}-value" for f in cls.credential_fields},
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        with pytest.raises(UnsupportedCapability) as caught:
            cls(integration).request_deletion("a@example.com")
        assert caught.value.message == cls.unsupported(Capability.DELETE_CONTACT).message
        assert len(rsps.calls) == 0


@platform
def test_webhook_registration_follows_the_declarations(cls, db, fake_clock):
    """A platform registers webhooks exactly when it declares how; the secrets it makes or is
    handed are ones its webhook scheme checks."""
    registers = cls.supports(Capability.REGISTER_WEBHOOKS)
    assert (cls.webhook_registration is not None) is registers
    if not registers:
        integration = Integration(platform=cls.slug, name="x", region=cls.default_region())
        with pytest.raises(UnsupportedCapability):
            cls(integration).ensure_webhooks("https://console.example.com/webhooks/x/")
        return
    spec = cls.webhook_registration
    assert cls.supports(Capability.WEBHOOKS) and spec.events and spec.source.startswith("https://")
    scheme_keys = set(cls.webhook_scheme.secret_keys())
    assert set(spec.issued) <= scheme_keys
    assert not spec.console_secret or spec.console_secret in scheme_keys
