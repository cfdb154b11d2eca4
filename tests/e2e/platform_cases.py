"""Each platform's quirks for the shared end-to-end scenarios (test_platform_scenarios_e2e.py).

A `PlatformCase` says how the platform is connected to its sandbox and what the scenarios
must find there: the connection report, a sync that sends everyone, then nothing, then only
the change, and the segment import (every platform that has segments); and, for the platforms
that name where the faults land, a 429 storm, 503s that stop a run, a key revoked mid-sync.
What the emulator must hold for a reader is a dict of attribute → expected value (see
check_stored), since every platform names its fields its own way. make_subscribers() makes 30
readers, 2 of them unsubscribed (7 and 19); reader i's interest cycles growth, dividends, none.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from datetime import UTC
from typing import Any

from django.db.models import Q

from integrations.models import ApiCall
from integrations.platforms.keap import NO_BULK_WARNING
from integrations.platforms.registry import get_platform
from integrations.sandbox import braze, campaign_monitor, klaviyo, sendgrid
from integrations.sandbox.models import SandboxContact, SandboxFieldType

SUBSCRIBED = 28  # make_subscribers(): 30, of whom 2 unsubscribed
SEGMENT_COUNTS = {"Growth Investors": 10, "Dividend Income": 8, "All readers": SUBSCRIBED}
INTEREST = ("attributes.interest", "interest", "", False)


ABSENT = object()  # in a stored-attribute check: the attribute must not be there


email_of = operator.attrgetter("email")
first_name_of = operator.attrgetter("first_name")
last_name_of = operator.attrgetter("last_name")


def full_name_of(subscriber):
    return f"{subscriber.first_name} {subscriber.last_name}"


def signup_iso(subscriber):
    return subscriber.created_at.isoformat()


def interest_of(subscriber) -> str | None:
    return subscriber.attributes.get("interest") or None


def check_stored(attributes: dict, expected: dict, subscriber) -> None:
    """Each dotted path of `expected` holds its value (a function of the subscriber, or a
    constant), of the same type; None also accepts a missing attribute, ABSENT demands one."""
    for path, want in expected.items():
        value = want(subscriber) if callable(want) else want
        found = attributes
        for part in path.split("."):
            found = found.get(part, ABSENT) if isinstance(found, dict) else ABSENT
        if value is ABSENT or value is None:
            assert found in (ABSENT, value), (path, found)
        else:
            assert (type(found), found) == (type(value), value), (path, found, value)


def utc_seconds(subscriber) -> str:
    """Iterable's and Mailchimp's signup dates: "yyyy-MM-dd HH:mm:ss" in UTC."""
    return subscriber.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def rename(index: int, **fields) -> Callable[[list], Any]:
    """The change of the third sync: reader `index` gets new `fields`."""

    def change(subscribers):
        changed = subscribers[index]
        for name, value in fields.items():
            setattr(changed, name, value)
        changed.save()
        return changed

    return change


@dataclasses.dataclass(frozen=True)
class Connection:
    """What test_connection reports for the demo account (beyond ok, can_write, CONNECTED)."""

    account: str | None = None  # the exact label (None: see account_prefix)
    account_prefix: str = ""
    region: str | None = None  # None: not checked
    permissions: dict = dataclasses.field(default_factory=dict)
    permissions_exact: bool = False  # the whole dict, not just these keys
    detail_has: tuple[str, ...] = ()
    stores_nothing: bool = False  # the write probe leaves the sandbox empty


@dataclasses.dataclass(frozen=True)
class Counted:
    """ApiCalls matching `where`, after the first sync and after the third (None: not checked)."""

    where: Q
    after_first: int | None
    after_third: int | None = None


@dataclasses.dataclass(frozen=True)
class Sync:
    """The sync scenario: everyone, then nothing, then only the change."""

    # What the emulator holds for a subscriber (see check_stored), or a function asserting it.
    contact: dict | Callable[[dict, Any], None]
    changed: dict  # what it holds for the changed subscriber after the third run
    change: Callable[[list], Any] = rename(10, last_name="Changed")
    first_calls: int | Callable[[list], int] | None = None  # run.api_calls of the first run
    third_calls: int | None = None
    warnings: tuple[str, ...] = ()  # each in one of the first run's warnings
    exact_warnings: tuple[str, ...] = ()  # each one of the first run's warnings, word for word
    counted: tuple[Counted, ...] = ()
    key: Callable[[Any], str] = lambda subscriber: subscriber.email.lower()
    after: Callable | None = None  # (integration, subscribers, run_sync, stored) once it is done


@dataclasses.dataclass(frozen=True)
class Segments:
    """The segment import after a sync: what each imported Segment row must say."""

    expected: dict  # segment name (or remote id, see key) → values of `fields`
    fields: tuple[str, ...] = ("member_count",)
    key: str = "name"
    result: tuple | None = (3, 3, [])  # (imported, counted, counts_pending)
    imported: int = 3  # checked when result is None
    budget: int | None = None
    remote_id: Callable | None = None  # SandboxSegment → the Segment's remote_id
    same_kind: bool = False  # Segment.kind == SandboxSegment.kind
    count_matches_remote: bool = True
    count_updated: bool = False
    api_calls: tuple[tuple[Q, int], ...] = ()  # ApiCalls of the integration matching Q
    seed_first: bool = False  # seed the sandbox just before (the connection test runs unseeded)
    after: Callable | None = None  # (integration, rows, stored) for what is the platform's own


@dataclasses.dataclass(frozen=True)
class PlatformCase:
    slug: str
    account: str  # the sandbox account the demo credentials reach
    connection: Connection
    sync: Sync
    segments: Segments | None = None  # None: the platform has no segments
    mappings: tuple | None = ()  # () the suggested ones plus `interest`; None the suggested
    oauth: bool = False
    seed: bool = False  # seed the sandbox before connecting (fields, lists the sync needs)
    fields: dict = dataclasses.field(default_factory=dict)  # more Integration fields
    stored_by: str = ""  # key the stored contacts by this attribute (lowercased), not identifier
    reset: Callable[[], None] | None = None  # before and after each test
    # The fault scenarios a case runs (None: not this one). The Q says where the faults land.
    throttled: Q | None = None  # a 429 storm: everything throttled, nothing lost
    failing: Q | None = None  # every write answered 503: the run stops after two batches
    revoke: dict | None = None  # these credentials revoked after the first stored write

    def __str__(self) -> str:
        return self.slug

    def integration_mappings(self):
        if self.mappings is None:
            return None
        return self.mappings or (*get_platform(self.slug).suggested_mappings, INTEREST)

    def stored(self) -> dict[str, dict]:
        """What the emulator holds for the demo account: key → attributes."""
        rows = SandboxContact.objects.filter(platform=self.slug, account=self.account)
        if self.stored_by:
            return {row.attributes.get(self.stored_by, "").lower(): row.attributes for row in rows}
        return {row.identifier: row.attributes for row in rows}


def field_types(slug: str, account: str) -> dict[str, str]:
    rows = SandboxFieldType.objects.filter(platform=slug, account=account)
    return dict(rows.values_list("name", "type"))


# --- Braze -------------------------------------------------------------------------------


BRAZE_CONTACT = {
    "email": email_of,
    "first_name": first_name_of,
    "last_name": last_name_of,
    "email_subscribe": "subscribed",
    "sharpsend_signup_date": signup_iso,
    "interest": interest_of,
    "_update_existing_only": ABSENT,
}


def braze_after(integration, subscribers, run_sync, stored):
    types = field_types("braze", "sandbox-braze-workspace-us")
    assert types["sharpsend_signup_date"] == "Date"
    assert types["interest"] == "String"
    # Unsubscribing a reader who was synced is sent as Braze's state name.
    gone = subscribers[3]
    gone.status = "unsubscribed"
    gone.save()
    fourth = run_sync(integration)
    assert fourth.updated == 1
    assert stored()[gone.email.lower()]["email_subscribe"] == "unsubscribed"


BRAZE = PlatformCase(
    slug="braze",
    account="sandbox-braze-workspace-us",
    connection=Connection(
        account="Braze workspace on US-01 (0 segments)",
        region="us-01",
        permissions={
            "upsert_contacts": True,
            "list_segments": True,
            "list_fields": True,
            "export_contact": True,
            "delete_contact": None,
        },
        permissions_exact=True,
        stores_nothing=True,  # the write probe is an empty /users/track
    ),
    sync=Sync(
        contact=BRAZE_CONTACT,
        changed={"last_name": "Changed"},
        first_calls=1,  # 28 users, one /users/track call (≤ 75)
        third_calls=1,
        after=braze_after,
    ),
    segments=Segments(
        expected=SEGMENT_COUNTS,
        remote_id=lambda remote: braze.segment_id(remote.remote_id),
        seed_first=True,
    ),
    throttled=Q(path="/users/track"),
)


# --- Campaign Monitor ----------------------------------------------------------------------


CAMPAIGN_MONITOR_CONTACT = {
    "EmailAddress": email_of,
    "Name": full_name_of,
    "State": "Active",
    "ConsentToTrack": "Unchanged",
    "interest": interest_of,
}


def campaign_monitor_remote_id(remote) -> str:
    if remote.kind == "list":
        return f"list:{campaign_monitor.list_id(remote.remote_id)}"
    return f"{remote.kind}:{campaign_monitor.segment_id(remote.remote_id)}"


CM_IMPORT = f"/api/v3.3/subscribers/{campaign_monitor.DEMO_LIST_ID}/import.json"

CAMPAIGN_MONITOR = PlatformCase(
    slug="campaign_monitor",
    account="sandbox-cm-account",
    seed=True,
    connection=Connection(account=f"SharpSend readers (client {campaign_monitor.CLIENT_ID})"),
    sync=Sync(
        contact=CAMPAIGN_MONITOR_CONTACT,
        changed={"Name": lambda changed: f"{changed.first_name} Changed"},
        counted=(Counted(Q(path=CM_IMPORT), after_first=1, after_third=2),),
    ),
    segments=Segments(
        expected={"SharpSend readers": SUBSCRIBED, "Growth Investors": 10, "Dividend Income": 8},
        remote_id=campaign_monitor_remote_id,
        count_matches_remote=False,
    ),
)


# --- Crisp ---------------------------------------------------------------------------------


def crisp_contact(person, subscriber):
    assert person["email"] == subscriber.email
    assert person["person"] == {"nickname": f"{subscriber.first_name} {subscriber.last_name}"}
    interest = interest_of(subscriber)
    assert person["data"] == ({"interest": interest} if interest else {})
    assert person.get("segments", []) == ([interest] if interest else [])
    assert person["subscribed"] is True


def crisp_first_calls(subscribers) -> int:
    """Per contact: a lookup and a create, plus its custom data when it has some."""
    with_interest = sum(1 for s in subscribers if s.status == "subscribed" and s.attributes)
    return 2 * SUBSCRIBED + with_interest


def crisp_segments_are_the_stored_ones(integration, rows, stored):
    counted = {}
    for attributes in stored().values():
        for segment in attributes.get("segments", []):
            counted[segment] = counted.get(segment, 0) + 1
    assert {key: row.member_count for key, row in rows.items()} == counted


CRISP = PlatformCase(
    slug="crisp",
    account="sbx-website-1",
    mappings=(
        *get_platform("crisp").suggested_mappings,
        INTEREST,
        ("attributes.interest", "segments", "", False),
    ),
    connection=Connection(
        account="SharpSend Sandbox Website",
        permissions={"upsert_contacts": True},
        detail_has=("Daily quota: 5,000 requests",),
        stores_nothing=True,
    ),
    sync=Sync(
        contact=crisp_contact,
        changed={"person.nickname": lambda changed: f"{changed.first_name} Changed"},
        first_calls=crisp_first_calls,
        warnings=("5,000 requests a day",),
    ),
    segments=Segments(
        expected={"growth": 10, "dividends": 8},
        key="remote_id",
        result=None,
        imported=2,
        count_matches_remote=False,
        after=crisp_segments_are_the_stored_ones,
    ),
)


# --- Customer.io ---------------------------------------------------------------------------


CUSTOMERIO_CONTACT = {
    "email": email_of,
    "first_name": first_name_of,
    "last_name": last_name_of,
    "unsubscribed": False,
    # Customer.io takes Unix seconds, as integers (the type is checked too).
    "created_at": lambda subscriber: int(subscriber.created_at.timestamp()),
    "interest": interest_of,
}


CUSTOMERIO = PlatformCase(
    slug="customerio",
    account="sandbox-site-us",
    connection=Connection(
        account="SharpSend demo workspace",
        region="us",
        permissions={"upsert_contacts": True, "delete_contact": True, "list_segments": True},
        permissions_exact=True,
    ),
    sync=Sync(
        contact=CUSTOMERIO_CONTACT,
        changed={"first_name": "Renamed", "last_name": last_name_of},  # merged, not replaced
        change=rename(4, first_name="Renamed"),
        first_calls=1,  # 28 people fit one batch
        third_calls=1,
        key=lambda subscriber: subscriber.email,  # identifiers keep the address's case
    ),
    segments=Segments(
        expected=SEGMENT_COUNTS,
        remote_id=lambda remote: str(remote.remote_id),
        same_kind=True,
        count_updated=True,
        seed_first=True,
    ),
    throttled=Q(),
    failing=Q(),
    revoke={"track_api_key": "sandbox-track-key-us"},
)


# --- Drift ---------------------------------------------------------------------------------


DRIFT_CONTACT = {
    "email": email_of,
    "first_name": first_name_of,
    "last_name": last_name_of,
    "sharpsend_status": "subscribed",
}


DRIFT = PlatformCase(
    slug="drift",
    account="sandbox-drift-org",
    oauth=True,
    seed=True,
    mappings=None,
    stored_by="email",
    connection=Connection(
        account="Drift org 4242",
        permissions={"upsert_contacts": True, "list_fields": True},
        permissions_exact=True,
    ),
    sync=Sync(
        contact=DRIFT_CONTACT,
        changed={"last_name": "Changed"},
        first_calls=2 * SUBSCRIBED,  # a lookup and a create each: no bulk endpoint
        third_calls=2,  # the lookup and the PATCH
    ),
)


# --- Front ---------------------------------------------------------------------------------


FRONT_CONTACT = {
    "email": email_of,
    "name": full_name_of,
    "custom_fields": lambda subscriber: (
        {"interest": interest_of(subscriber)} if interest_of(subscriber) else {}
    ),
}


def front_change(subscribers):
    """Someone set another custom field in Front: our update must keep it."""
    changed = subscribers[10]
    row = SandboxContact.objects.get(platform="front", identifier=changed.email.lower())
    row.attributes = {
        **row.attributes,
        "custom_fields": {**row.attributes["custom_fields"], "Seats": 4},
    }
    row.save()
    changed.last_name = "Changed"
    changed.attributes = {"interest": "growth"}
    changed.save()
    return changed


FRONT = PlatformCase(
    slug="front",
    account="sbx-company",
    seed=True,  # the custom fields Front needs defined before writing
    mappings=(
        *get_platform("front").suggested_mappings,
        ("attributes.interest", "custom_fields.interest", "", False),
    ),
    connection=Connection(
        account="SharpSend Sandbox Company",
        permissions={"upsert_contacts": True, "list_segments": True},
        detail_has=("50 a minute",),
        stores_nothing=True,
    ),
    sync=Sync(
        contact=FRONT_CONTACT,
        changed={
            "name": lambda changed: f"{changed.first_name} Changed",
            "custom_fields": {"interest": "growth", "Seats": 4},
        },
        change=front_change,
        # The mapping check lists the fields once; then a lookup and a create each.
        first_calls=1 + 2 * SUBSCRIBED,
        third_calls=3,  # fields, lookup, PATCH
        warnings=("no bulk contact write",),
    ),
    segments=Segments(
        expected=SEGMENT_COUNTS,
        result=None,
        imported=3,
        budget=60,
        remote_id=lambda remote: f"grp_{remote.remote_id}",
    ),
)


# --- Iterable ------------------------------------------------------------------------------


ITERABLE_CONTACT = {
    "email": email_of,
    "firstName": first_name_of,
    "lastName": last_name_of,
    "sharpsendStatus": "subscribed",
    "signupDate": utc_seconds,
    "interest": interest_of,
}


def iterable_field_types(integration, subscribers, run_sync, stored):
    assert field_types("iterable", "sandbox-project-us") == {
        "firstName": "string",
        "lastName": "string",
        "sharpsendStatus": "string",
        "signupDate": "date",
        "interest": "string",
    }


ITERABLE = PlatformCase(
    slug="iterable",
    account="sandbox-project-us",
    connection=Connection(
        account="Iterable project (US, 0 lists)",  # nothing seeded yet
        region="us",
        permissions={"upsert_contacts": True},
        stores_nothing=True,  # the write check is an empty bulk update
    ),
    sync=Sync(
        contact=ITERABLE_CONTACT,
        changed={"lastName": "Changed", "firstName": first_name_of},
        first_calls=1,
        third_calls=1,
        key=lambda subscriber: subscriber.email,
        after=iterable_field_types,
    ),
    segments=Segments(
        expected=SEGMENT_COUNTS,
        # List sizes are 5 a minute: give the import time to count all three (fake clock).
        budget=60,
        remote_id=lambda remote: str(remote.remote_id),
        same_kind=True,
        api_calls=(
            (Q(path__endswith="/size"), 3),
            (Q(path__endswith="/size", status_code=429), 0),
        ),
        seed_first=True,
    ),
    throttled=Q(path="/api/users/bulkUpdate"),
    failing=Q(path="/api/users/bulkUpdate"),
    revoke={"api_key": "sandbox-iterable-server-key-us"},
)


# --- Keap ----------------------------------------------------------------------------------


KEAP_CONTACT = {
    "email": email_of,
    "given_name": first_name_of,
    "family_name": last_name_of,
    "email_status": "SINGLE_OPT_IN",  # created with an opt-in reason
    "interest": interest_of,
}


KEAP = PlatformCase(
    slug="keap",
    account="sandbox-keap-app",
    oauth=True,
    seed=True,  # the custom fields (interest …) and tags
    stored_by="email",
    connection=Connection(
        account_prefix="Keap account sandbox-keap-app",
        permissions={"upsert_contacts": True, "list_fields": True, "list_segments": True},
        permissions_exact=True,
    ),
    sync=Sync(
        contact=KEAP_CONTACT,
        changed={"family_name": "Changed"},
        # One call a contact (no bulk endpoint), plus the contact model for the mapping check.
        first_calls=SUBSCRIBED + 1,
        exact_warnings=(NO_BULK_WARNING,),
        counted=(
            Counted(
                Q(method="POST", path="/crm/rest/v2/contacts"),
                after_first=None,
                after_third=SUBSCRIBED + 1,
            ),
        ),
    ),
    segments=Segments(expected=SEGMENT_COUNTS, remote_id=lambda remote: str(remote.remote_id)),
)


# --- Kit -----------------------------------------------------------------------------------


def kit_fields(subscriber) -> dict:
    fields = {"last_name": subscriber.last_name}
    if subscriber.attributes.get("interest"):
        fields["interest"] = subscriber.attributes["interest"]
    return fields


KIT_CONTACT = {
    "email_address": email_of,
    "first_name": first_name_of,
    "state": "active",
    "fields": kit_fields,
}


KIT = PlatformCase(
    slug="kit",
    account="sandbox-kit-creator",
    seed=True,  # custom fields, tags, segment
    connection=Connection(account="SharpSend demo creator", detail_has=("need OAuth",)),
    sync=Sync(
        contact=KIT_CONTACT,
        changed={"fields.last_name": "Changed"},
        first_calls=1 + SUBSCRIBED,  # the custom fields, then one upsert each
        counted=(
            Counted(
                Q(path="/v4/subscribers", method="POST"),
                after_first=SUBSCRIBED,
                after_third=SUBSCRIBED + 1,
            ),
        ),
    ),
    segments=Segments(
        expected={
            "Growth Investors": ("tag:1", "tag", 10),
            "Dividend Income": ("tag:2", "tag", 8),
            # Kit's API has no member count for segments.
            "All readers": ("segment:3", "segment", None),
        },
        fields=("remote_id", "kind", "member_count"),
        result=None,
        imported=3,
        count_matches_remote=False,
    ),
)


# --- Klaviyo -------------------------------------------------------------------------------


KLAVIYO_CONTACT = {
    "email": email_of,
    "first_name": first_name_of,
    "last_name": last_name_of,
    "properties.sharpsend_status": "subscribed",
    "properties.sharpsend_signup_date": signup_iso,
    "properties.interest": interest_of,
}


KLAVIYO = PlatformCase(
    slug="klaviyo",
    account="sandbox-klaviyo-account",
    reset=klaviyo.reset_jobs,
    connection=Connection(
        account="SharpSend demo account",
        permissions={"upsert_contacts": True, "list_segments": True},
        # The write probe (an empty import job) is refused as invalid: nothing is stored.
        stores_nothing=True,
    ),
    sync=Sync(
        contact=KLAVIYO_CONTACT,
        # Klaviyo merges properties: those not sent again are kept.
        changed={"last_name": "Changed", "properties.sharpsend_status": "subscribed"},
        # One submission, then polls until complete (queued → processing → complete).
        first_calls=1 + 3,
        counted=(
            Counted(
                Q(path="/api/profile-bulk-import-jobs", method="POST"),
                after_first=1,  # one job for the chunk
                after_third=2,
            ),
        ),
    ),
    segments=Segments(
        expected={
            "Growth Investors": ("segment", 10),
            "Dividend Income": ("segment", 8),
            "All readers": ("list", SUBSCRIBED),
        },
        fields=("kind", "member_count"),
        remote_id=lambda remote: f"{remote.kind}:{klaviyo.group_id(remote.remote_id)}",
        api_calls=(
            (Q(path__startswith="/api/segments/") | Q(path__startswith="/api/lists/"), 3),
            (Q(status_code=429), 0),
        ),
        seed_first=True,
    ),
    throttled=Q(),
)


# --- Mailchimp -----------------------------------------------------------------------------


def mailchimp_merge_fields(subscriber) -> dict:
    merge = {"FNAME": subscriber.first_name, "LNAME": subscriber.last_name}
    if subscriber.attributes.get("interest"):
        merge["INTEREST"] = subscriber.attributes["interest"]
    return merge


MAILCHIMP_CONTACT = {
    "email_address": email_of,
    "status": "subscribed",
    "merge_fields": mailchimp_merge_fields,
    "timestamp_signup": utc_seconds,
}


MAILCHIMP = PlatformCase(
    slug="mailchimp",
    account="sandbox-audience-us6",
    seed=True,  # the audience's merge fields and segments
    fields={"region": "auto"},
    mappings=(
        *get_platform("mailchimp").suggested_mappings,
        ("attributes.interest", "INTEREST", "", False),
        ("created_at", "timestamp_signup", "", False),
    ),
    connection=Connection(
        account="SharpSend demo audience", region="us6", detail_has=("role: owner",)
    ),
    sync=Sync(
        contact=MAILCHIMP_CONTACT,
        changed={"merge_fields.LNAME": "Changed", "merge_fields.FNAME": first_name_of},
        first_calls=2,  # the merge fields, then one batch of 28
        counted=(
            Counted(Q(path="/3.0/lists/sandbox6a", method="POST"), after_first=1, after_third=2),
        ),
    ),
    segments=Segments(
        expected=SEGMENT_COUNTS,
        remote_id=lambda remote: str(remote.remote_id),
        same_kind=True,
        count_matches_remote=False,
        # Counts come with the segment list: one call.
        api_calls=((Q(path__contains="/segments"), 1),),
    ),
)


# --- SendGrid ------------------------------------------------------------------------------

SENDGRID_CONTACTS = "/v3/marketing/contacts"


SENDGRID_CONTACT = {
    "email": lambda subscriber: subscriber.email.lower(),
    "first_name": first_name_of,
    "last_name": last_name_of,
    "list_ids": [sendgrid.ALL_READERS],
    "interest": interest_of,
}


def sendgrid_counts_on_demand(integration, rows, stored):
    client = integration.client()
    assert client.segment_member_count(f"list:{sendgrid.ALL_READERS}") == SUBSCRIBED
    assert client.segment_member_count(f"segment:{sendgrid.list_uuid(2)}") == 10


SENDGRID = PlatformCase(
    slug="sendgrid",
    account="sandbox-sendgrid-global",
    seed=True,
    connection=Connection(
        account="SendGrid (Global (api.sendgrid.com))",
        region="global",
        detail_has=("list 'All readers'",),
        stores_nothing=True,
    ),
    sync=Sync(
        contact=SENDGRID_CONTACT,
        changed={"first_name": "Changed"},
        change=rename(10, first_name="Changed"),
        counted=(
            # One upsert job for the chunk, polled twice (pending, then completed).
            Counted(Q(method="PUT", path=SENDGRID_CONTACTS), after_first=1, after_third=2),
            Counted(
                Q(method="GET", path__startswith=f"{SENDGRID_CONTACTS}/imports/"), after_first=2
            ),
            Counted(Q(method="GET", path="/v3/marketing/field_definitions"), after_first=1),
        ),
    ),
    segments=Segments(
        expected=SEGMENT_COUNTS,
        remote_id=lambda remote: f"{remote.kind}:{sendgrid.list_uuid(remote.remote_id)}",
        count_matches_remote=False,
        # Counts came with the lists and segments: no per-segment count calls.
        api_calls=((Q(path__endswith="/count"), 0),),
        after=sendgrid_counts_on_demand,
    ),
)


CASES = (
    BRAZE,
    CAMPAIGN_MONITOR,
    CRISP,
    CUSTOMERIO,
    DRIFT,
    FRONT,
    ITERABLE,
    KEAP,
    KIT,
    KLAVIYO,
    MAILCHIMP,
    SENDGRID,
)


def api_calls(integration, where: Q) -> int:
    return ApiCall.objects.filter(where, integration=integration).count()
