"""Reading a platform's contacts into SharpSend (a historical backfill), page by page.

A profile import is a SyncRun of kind "import": it is queued, claimed, heartbeated, marked
interrupted and resumed by the same machinery as a push (services/sync.py); this module is its
runner. Each page of the platform's contacts (`contacts_page`, at most the platform's page
size, so memory stays flat) ends in one transaction that creates and updates the page's
subscribers in bulk, stores its per-record errors and counts, and checkpoints the platform's
cursor for the next page, so a run that dies resumes at the first page it had not committed:
nothing is lost and nothing counted twice.

For each profile:
- no email, or one that is not valid: a per-record error (rejected, data); nothing written;
- a suppressed email (a deletion request, audience/suppression.py): skipped, never recreated;
- a new reader: created with the platform's state; one the platform holds no consent for
  (status "") is skipped rather than created subscribed;
- a known reader: merged by the conflict policy (the run's, else the integration's), an
  opt-out always taken in and a subscribe never undoing SharpSend's opt-out
  (audience/profiles.py), so an unsubscribed reader stays unsubscribed whatever the platform
  says.
Custom attributes and names come through the integration's field mappings read backwards
(services/mapping.py: ReverseMapper).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from audience.models import Subscriber, SubscriberStatus, normalise_email
from audience.profiles import merge_profile
from audience.suppression import suppressed_among
from integrations import metering
from integrations.models import ApiFeature, Outcome, SyncRecord, SyncRun, SyncStatus
from integrations.platforms.types import Capability, ContactPage, RemoteProfile
from integrations.services.mapping import ReverseMapper, compile_reverse
from integrations.services.sync import StopRun, finish_run
from integrations.services.webhooks import storable

_STATUSES = frozenset(SubscriberStatus.values)
_NAME_LENGTHS = {
    name: Subscriber._meta.get_field(name).max_length for name in ("first_name", "last_name")
}
_EMAIL_LENGTH = Subscriber._meta.get_field("email").max_length
_WRITTEN = ("first_name", "last_name", "status", "attributes", "updated_at")


class _Malformed(Exception):
    """A profile SharpSend cannot take: the code and the message of its record."""

    def __init__(self, code: str, message: str, hint: str):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


@dataclass
class _Page:
    """What one page comes to before it is written."""

    to_create: dict[str, Subscriber] = field(default_factory=dict)
    to_update: dict[str, Subscriber] = field(default_factory=dict)
    errors: list[SyncRecord] = field(default_factory=list)


class ProfileImporter:
    """Runs one import SyncRun: every page of the platform's contacts from its checkpoint."""

    def __init__(self, run: SyncRun):
        self.run = run
        self.integration = run.integration
        self.client = self.integration.client()
        self.calls_before = run.api_calls  # a taken-over run keeps counting
        self.policy = run.conflict_policy or self.integration.conflict_policy

    def execute(self) -> None:
        if not self.client.supports(Capability.LIST_CONTACTS):
            raise StopRun(str(self.client.unsupported(Capability.LIST_CONTACTS)))
        mapper = compile_reverse(self.integration)
        run = self.run
        # A run resumed after its last page was committed has nothing left to read.
        finished = run.cursor > 0 and not run.remote_cursor
        with metering.feature(ApiFeature.PROFILES):
            while not finished:
                page = self.client.contacts_page(run.remote_cursor or None)
                self._write(page, self._prepare(page, mapper))
                finished = page.next_cursor is None
        finish_run(run, SyncStatus.SUCCEEDED if run.failed == 0 else SyncStatus.PARTIAL)

    # --- one page ------------------------------------------------------------------------------

    def _prepare(self, page: ContactPage, mapper: ReverseMapper) -> _Page:
        run, prepared = self.run, _Page()
        checked = [(profile, _checked_email(profile)) for profile in page.profiles]
        # Only valid emails reach a query (PostgreSQL refuses a NUL in a parameter).
        emails = {email for _, email in checked if isinstance(email, str)}
        suppressed = suppressed_among(emails) if emails else set()
        known = {
            s.email_ci: s
            for s in Subscriber.objects.annotate(email_ci=Lower("email")).filter(
                email_ci__in=emails - suppressed
            )
        }
        for profile, email in checked:
            run.seen += 1
            if email in suppressed:
                run.excluded += 1  # suppressed: never recreated, never re-subscribed
                continue
            try:
                if isinstance(email, _Malformed):
                    raise email
                incoming = self._incoming(profile, mapper)
            except _Malformed as bad:
                run.rejected_data += 1
                prepared.errors.append(self._error_record(profile, bad, known))
                continue
            subscriber = prepared.to_create.get(email) or known.get(email)
            if subscriber is None:
                if not incoming.get("status"):
                    run.excluded += 1  # no consent on the platform: not created
                    continue
                subscriber = Subscriber(email=email)
                merge_profile(subscriber, incoming, self.policy, is_new=True)
                prepared.to_create[email] = subscriber
                run.created += 1
                continue
            # A known reader, or one created by an earlier profile of this page.
            if merge_profile(subscriber, incoming, self.policy, is_new=False):
                if email not in prepared.to_create:
                    prepared.to_update[email] = subscriber
                run.updated += 1
            else:
                run.unchanged += 1
        return prepared

    def _incoming(self, profile: RemoteProfile, mapper: ReverseMapper) -> dict:
        """What the profile brings (merge_profile's input); _Malformed if SharpSend cannot
        take it."""
        incoming = mapper.map_back(profile.fields)
        for name, limit in _NAME_LENGTHS.items():
            value = incoming.get(name)
            if value is None:
                continue
            incoming[name] = value = str(value).strip()
            if len(value) > limit:
                raise _Malformed(
                    "value_too_long",
                    f"The {name.replace('_', ' ')} is longer than {limit} characters.",
                    f"Shorten it on the platform (SharpSend keeps {limit} characters).",
                )
        if _holds_nul(incoming):
            raise _Malformed(
                "nul_character",
                "A value of the profile holds a NUL character.",
                "Remove the control character from the contact on the platform.",
            )
        if profile.status in _STATUSES:
            incoming["status"] = profile.status
        return incoming

    def _error_record(self, profile: RemoteProfile, bad: _Malformed, known) -> SyncRecord:
        email = profile.email if isinstance(profile.email, str) else ""
        message = bad.message
        if profile.platform_id:
            message += f" (the platform's id: {profile.platform_id})"
        return SyncRecord(
            run=self.run,
            subscriber=known.get(normalise_email(email)),
            email=storable(email.strip(), 254),
            outcome=Outcome.REJECTED_DATA,
            code=bad.code,
            message=storable(self.client.redact(message), 1000),
            hint=bad.hint[:300],
        )

    def _write(self, page: ContactPage, prepared: _Page) -> None:
        """The page's subscribers, errors, counts and checkpoint, in one transaction."""
        run, now = self.run, timezone.now()
        for subscriber in prepared.to_update.values():
            subscriber.updated_at = now
        run.cursor += 1
        run.remote_cursor = page.next_cursor or ""
        run.api_calls = self.calls_before + self.client.calls
        run.heartbeat_at = now
        try:
            with transaction.atomic():
                Subscriber.objects.bulk_create(prepared.to_create.values(), batch_size=500)
                Subscriber.objects.bulk_update(
                    prepared.to_update.values(), _WRITTEN, batch_size=500
                )
                SyncRecord.objects.bulk_create(prepared.errors, batch_size=500)
                run.save()
        except Exception:
            run.refresh_from_db()  # the page's counts and checkpoint were not written
            raise


def _checked_email(profile: RemoteProfile) -> str | _Malformed:
    """The profile's email, normalised, or why it cannot be one (none, or invalid)."""
    try:
        return _email_of(profile)
    except _Malformed as bad:
        return bad


def _email_of(profile: RemoteProfile) -> str:
    """The profile's email, normalised; _Malformed when it has none or one that is invalid."""
    raw = profile.email if isinstance(profile.email, str) else ""
    email = normalise_email(raw)
    if not email:
        raise _Malformed(
            "missing_email",
            "The platform's profile has no email address.",
            "SharpSend keys readers by email: give the contact an email on the platform.",
        )
    try:
        validate_email(email)
        if len(email) > _EMAIL_LENGTH:
            raise ValidationError("too long")
    except ValidationError:
        raise _Malformed(
            "invalid_email",
            f"'{raw[:254]}' is not a valid email address.",
            "Correct the contact's email on the platform, then import again.",
        ) from None
    return email


def _holds_nul(value) -> bool:
    """Whether a string anywhere in `value` (nested dicts and lists) holds U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False
