"""The base platform client: HTTP session, auth, shared rate limits, retries, metering, errors.

Each platform module subclasses PlatformClient, declares what it can do (capabilities,
credential fields, regions and hosts, limits) and implements only those capabilities. Anything
not declared raises UnsupportedCapability from here.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus, urlencode, urlsplit

import orjson
import requests
from django.conf import settings
from tenacity import Retrying, retry_if_exception
from tenacity.stop import stop_base

from integrations import clock, metering, ratelimit
from integrations.platforms import rules, urlpolicy
from integrations.platforms.auth import BearerAuth
from integrations.platforms.errors import (
    AuthError,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
    TransientError,
    UnsupportedCapability,
    ValidationFailed,
)
from integrations.platforms.types import (
    AuthMethod,
    Capability,
    Category,
    ConnectionReport,
    ContactRecord,
    CredentialField,
    Limits,
    OAuthSpec,
    PlannedRequest,
    RecordResult,
    RemoteSegment,
    TargetField,
    TimestampFormat,
    UpsertPlan,
    Written,
)

logger = logging.getLogger(__name__)


REDACTED = "[redacted]"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock.now())


class _StopPolicy(stop_base):
    """Stop after the configured attempts, or at once when told to wait longer than we will."""

    def __init__(self, max_attempts: int, max_retry_after: float):
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after

    def __call__(self, retry_state) -> bool:
        exc = retry_state.outcome.exception()
        if isinstance(exc, PlatformError) and (exc.retry_after or 0) > self.max_retry_after:
            return True
        return retry_state.attempt_number >= self.max_attempts


class PlatformClient:
    """Base of every platform client. Subclasses set the class attributes below."""

    # Templates show platform classes (label, capabilities); they must not call them.
    do_not_call_in_templates = True

    slug: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[Category]
    summary: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # Why a capability the console knows is missing here (shown by the admin and the wizard).
    unsupported_reasons: ClassVar[dict[Capability, str]] = {}
    # The credentials whose values the platform's rate limit is counted by (see rate_scope).
    rate_limited_by: ClassVar[tuple[str, ...]] = ()
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    regions: ClassVar[dict[str, str]] = {}
    # surface → region → base URL (scheme and host, maybe a path prefix)
    hosts: ClassVar[dict[str, dict[str, str]]] = {}
    limits: ClassVar[Limits]
    # What the platform checks of each contact it is sent (integrations/platforms/rules.py):
    # the forecast applies these, the emulator applies the same, and the rules marked `local`
    # are checked by the client before sending.
    contact_rules: ClassVar[tuple[rules.Rule, ...]] = rules.EMAIL_CONTACT_RULES
    # Target fields that can identify a contact, the first being the default.
    identifier_fields: ClassVar[tuple[str, ...]] = ("email",)
    # True when the platform creates an attribute on first write (any target name is valid).
    accepts_new_fields: ClassVar[bool] = False
    # True when the platform's bulk write can leave existing contacts untouched by itself.
    keeps_existing_natively: ClassVar[bool] = False
    # What a 429's X-RateLimit-Reset holds when there is no Retry-After: "epoch" (the Unix
    # time the window reopens), "seconds" (until it does), or None (not sent).
    rate_limit_reset: ClassVar[str | None] = None
    # How the platform authenticates: API keys (credential_fields), OAuth (oauth), or both.
    auth_methods: ClassVar[tuple[AuthMethod, ...]] = (AuthMethod.API_KEY,)
    oauth: ClassVar[OAuthSpec | None] = None
    # First mappings offered for a new integration: (source, target, transform, identifier).
    suggested_mappings: ClassVar[tuple[tuple[str, str, str, bool], ...]] = (
        ("email", "email", "", True),
    )

    def __init__(self, integration):
        self.integration = integration
        self.region = integration.region or self.default_region()
        self.session = urlpolicy.guarded_session(requests.Session())
        self.calls = 0
        self.warnings: list[str] = []  # things a run should tell the user, not failures
        self._secrets = integration.secrets
        self._sent_authorizations: set[str] = set()

    # --- declarations ------------------------------------------------------------------------

    @classmethod
    def supports(cls, capability: Capability) -> bool:
        return capability in cls.capabilities

    @classmethod
    def default_region(cls) -> str:
        return next(iter(cls.regions), "")

    @classmethod
    def published_hosts(cls) -> set[str]:
        return {
            urlsplit(url).netloc for by_region in cls.hosts.values() for url in by_region.values()
        }

    @classmethod
    def accepts_host(cls, netloc: str) -> bool:
        """Whether `netloc` (host[:port], lower case) is one of the platform's own hosts."""
        return netloc in cls.published_hosts()

    @classmethod
    def describe_hosts(cls) -> str:
        """The platform's hosts, as an error message names them."""
        return ", ".join(sorted(cls.published_hosts()))

    @classmethod
    def check_base_url(cls, url: str) -> None:
        """Raise ConfigurationError unless `url` is allowed by the one URL policy."""
        urlpolicy.check_base_url(cls, url)

    # --- capabilities (override what the platform declares) ----------------------------------

    @classmethod
    def unsupported(cls, capability: Capability) -> UnsupportedCapability:
        """The error that says this platform cannot do `capability`, with the reason."""
        reason = cls.unsupported_reasons.get(capability, "the platform's API does not offer it")
        return UnsupportedCapability(f"{cls.label} cannot {capability.label.lower()}: {reason}.")

    def test_connection(self) -> ConnectionReport:
        raise self.unsupported(Capability.TEST_CONNECTION)

    def list_fields(self) -> list[TargetField]:
        raise self.unsupported(Capability.LIST_FIELDS)

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        raise self.unsupported(Capability.UPSERT_CONTACTS)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        """The requests upsert_contacts sends for `records` (and those refused unsent).

        Platforms with UPSERT_CONTACTS build their requests here and nowhere else, so a
        preview or a dry run shows what the real write sends.
        """
        raise self.unsupported(Capability.UPSERT_CONTACTS)

    def build_upsert_requests(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[PlannedRequest]:
        """The exact HTTP requests a batch of records becomes; nothing is written."""
        return self.plan_upsert(records, update_existing).requests

    def track_events(self, events: Sequence[dict]) -> list[RecordResult]:
        raise self.unsupported(Capability.TRACK_EVENTS)

    def list_segments(self) -> list[RemoteSegment]:
        raise self.unsupported(Capability.LIST_SEGMENTS)

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        raise self.unsupported(Capability.LIST_SEGMENTS)

    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        raise self.unsupported(Capability.CREATE_SEGMENT)

    def add_to_segment(self, remote_id: str, identifiers: Sequence[str]) -> None:
        raise self.unsupported(Capability.ADD_TO_SEGMENT)

    def send_campaign(self, spec: dict) -> str:
        raise self.unsupported(Capability.SEND_CAMPAIGN)

    def trigger_journey(self, spec: dict) -> str:
        raise self.unsupported(Capability.TRIGGER_JOURNEY)

    def campaign_metrics(self, remote_id: str) -> dict:
        raise self.unsupported(Capability.CAMPAIGN_METRICS)

    def delete_contact(self, identifier: str) -> None:
        raise self.unsupported(Capability.DELETE_CONTACT)

    def export_contact(self, identifier: str) -> dict:
        raise self.unsupported(Capability.EXPORT_CONTACT)

    def verify_webhook(self, request) -> bool:
        raise self.unsupported(Capability.WEBHOOKS)

    def parse_webhook(self, request) -> list[dict]:
        raise self.unsupported(Capability.WEBHOOKS)

    # --- credentials, URLs and auth ----------------------------------------------------------

    def credential(self, key: str) -> str:
        value = self._secrets.get(key)
        if not value:
            field = next((f for f in self.credential_fields if f.key == key), None)
            label = field.label if field else key
            raise ConfigurationError(f"{self.label}: the {label} is missing.")
        return str(value)

    def auth_for(self, surface: str) -> requests.auth.AuthBase | None:
        """The requests auth object for an API surface: the OAuth token when connected that
        way; platforms with API keys override (and call oauth_auth() when uses_oauth())."""
        return self.oauth_auth() if self.uses_oauth() else None

    # --- OAuth 2.0 ---------------------------------------------------------------------------

    @classmethod
    def account_key_from_token(cls, token: dict) -> str:
        """The connected account's id in a token reply (platforms name it differently)."""
        return str(token.get("account_key") or "")

    def uses_oauth(self) -> bool:
        """True when this integration is connected with OAuth (not an API key)."""
        return self.oauth is not None and self._oauth_connection() is not None

    def _oauth_connection(self):
        """The integration's OAuth connection, read once per client (None: not connected)."""
        if not hasattr(self, "_oauth_cache"):
            pending = getattr(self.integration, "pending_oauth", None)
            if pending is not None or self.oauth is None or self.integration.pk is None:
                self._oauth_cache = pending
            else:
                from integrations.models import OAuthConnection

                self._oauth_cache = OAuthConnection.objects.filter(
                    integration_id=self.integration.pk
                ).first()
        return self._oauth_cache

    def oauth_auth(self) -> requests.auth.AuthBase:
        """Bearer auth with an access token that is fresh (refreshed ahead of expiry)."""
        from integrations.services import oauth

        self._oauth_cache = oauth.fresh_connection(self.integration, self._oauth_connection())
        self._oauth_token = self._oauth_cache.access_token
        return BearerAuth(self._oauth_token)

    def headers_for(self, surface: str) -> dict[str, str]:
        return {}

    def base_url(self, surface: str, region: str | None = None) -> str:
        region = region or self.region
        try:
            default = self.hosts[surface][region]
        except KeyError:
            raise ConfigurationError(f"{self.label} has no region '{region}'.") from None
        override = self.integration.api_base_url.strip()
        if not override:
            return default
        if urlpolicy.is_sandbox_url(override, self.slug):
            # The sandbox serves every real host under its own path, so regions still differ.
            return f"{override.rstrip('/')}/{urlsplit(default).netloc}"
        self.check_base_url(override)
        override_host = urlsplit(override).netloc
        if any(urlsplit(u).netloc == override_host for u in self.hosts[surface].values()):
            return override.rstrip("/")
        return default

    # --- the one way to call a platform -------------------------------------------------------

    def request(
        self,
        method: str,
        surface: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict | None = None,
        rate: str | None = None,
        ok: Iterable[int] = (200,),
        region: str | None = None,
        max_wait: float | None = None,
        url: str | None = None,
    ) -> requests.Response:
        """Send one API call within the shared rate limit, retrying what is worth retrying.

        Returns the response when its status is in `ok`; raises a typed PlatformError otherwise.
        `url` is an absolute URL the platform handed back (a job's result file) to call instead
        of the surface's host + `path`; `path` is then only what metering and messages show.
        """
        ok = tuple(ok)
        rate_name = rate if rate in self.limits.rates else surface
        limit = self.limits.rates[rate_name]
        key = self.rate_key(rate_name)
        body = (
            content if content is not None else (orjson.dumps(json) if json is not None else None)
        )
        url = url or self.base_url(surface, region) + path

        def wait(retry_state) -> float:
            exc = retry_state.outcome.exception()
            delay = self._backoff(retry_state.attempt_number)
            if isinstance(exc, RateLimited):
                if exc.retry_after is None:  # no Retry-After: everyone backs off
                    ratelimit.pause(key, delay, limit)
                return 0.0  # the shared limiter holds this attempt until the pause ends
            return exc.retry_after if exc.retry_after is not None else delay

        retrying = Retrying(
            stop=_StopPolicy(settings.PLATFORM_MAX_ATTEMPTS, settings.PLATFORM_MAX_RETRY_AFTER),
            wait=wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, PlatformError) and exc.retryable),
            sleep=clock.sleep,
            reraise=True,
        )
        patience = settings.PLATFORM_MAX_RETRY_AFTER if max_wait is None else max_wait
        for attempt in retrying:
            with attempt:
                self._acquire(key, limit, patience)
                try:
                    return self._send_with_fresh_token(method, surface, url, path, body, params, ok)
                except RateLimited as exc:
                    if exc.retry_after is not None:
                        # Every process sharing this limit holds off, however long the pause:
                        # those that will not wait that long give up at once (_acquire).
                        ratelimit.pause(key, exc.retry_after, limit)
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_with_fresh_token(self, method, surface, url, path, body, params, ok):
        """Send; an OAuth integration whose token was refused refreshes it once and resends."""
        try:
            return self._send_once(method, surface, url, path, body, params, ok)
        except AuthError:
            if not self.uses_oauth():
                raise
            from integrations.services import oauth

            self._oauth_cache = oauth.refresh(
                self.integration, stale_token=getattr(self, "_oauth_token", None)
            )
            return self._send_once(method, surface, url, path, body, params, ok)

    def _acquire(self, key: str, limit, patience: float) -> None:
        """A slot under the shared limit, or RateLimited (not retried) if it is too far off."""
        try:
            ratelimit.acquire(key, limit, max_wait=patience)
        except ratelimit.RateLimitWaitTooLong as exc:
            error = RateLimited(
                f"{self.label} asked us to wait {exc.wait:.0f} s before the next request; "
                f"not waiting that long (the limit is {patience:.0f} s).",
                code="rate_limited",
                retry_after=exc.wait,
            )
            error.retryable = False
            raise error from None

    def rate_scope(self) -> str:
        """Whose budget a call counts against, as the platform counts it.

        A platform that counts per credential (an API key, a plugin token) names those
        credentials in `rate_limited_by`: integrations holding the same values then share one
        budget (a digest of the values names it; the values are never stored). Otherwise
        each integration has its own.
        """
        values = [self._secrets.get(key, "") for key in self.rate_limited_by]
        if not any(values):
            return str(self.integration.pk)
        digest = hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:20]
        return f"credential-{digest}"

    def rate_key(self, rate_name: str) -> str:
        """The shared limiter's row for one of this client's rates."""
        return f"{self.slug}:{self.rate_scope()}:{rate_name}"

    def hold_off(self, rate_name: str, seconds: float) -> None:
        """Hold every worker sharing one of this client's rates off for `seconds` (a quota the
        platform reports spent, before it starts answering 429)."""
        ratelimit.pause(self.rate_key(rate_name), seconds, self.limits.rates[rate_name])

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(
            settings.PLATFORM_BACKOFF_MAX, settings.PLATFORM_BACKOFF_BASE * 2 ** (attempt - 1)
        )
        return random.uniform(0, ceiling)

    def _send_once(self, method, surface, url, path, body, params, ok) -> requests.Response:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        headers.update(self.headers_for(surface))  # a platform's own media type wins
        started = time.perf_counter()
        self.calls += 1
        try:
            response = self.session.request(
                method,
                url,
                data=body,
                params=params,
                headers=headers,
                auth=self.auth_for(surface),
                timeout=settings.PLATFORM_HTTP_TIMEOUT,
            )
        except requests.RequestException as exc:
            self._meter(surface, method, path, None, False, "transient", started, body, b"")
            reason = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
            raise TransientError(self.redact(f"{self.label}: {method} {path} {reason}.")) from None
        self._remember_authorization(response.request)
        success = response.status_code in ok
        error = None if success else self._error_for(response, method, path)
        self._meter(
            surface,
            method,
            path,
            response.status_code,
            success,
            error.kind if error else "",
            started,
            body,
            response.content,
        )
        if error:
            raise error
        return response

    def _meter(self, surface, method, path, status, success, kind, started, body, content) -> None:
        metering.record_call(
            self.integration,
            surface=surface,
            method=method,
            path=path.split("?", 1)[0],
            status_code=status,
            ok=success,
            error_kind=kind,
            latency_ms=(time.perf_counter() - started) * 1000,
            bytes_sent=len(body or b""),
            bytes_received=len(content or b""),
        )

    def _error_for(self, response: requests.Response, method: str, path: str) -> PlatformError:
        status = response.status_code
        code, detail = self.describe_error(response)
        message = self.redact(
            f"{self.label} answered {status} to {method} {path}"
            + (f": {detail}" if detail else ".")
        )
        kwargs = {
            "status": status,
            "code": code or str(status),
            "retry_after": self.retry_after_for(response),
        }
        return self.error_class_for(status, code)(message, **kwargs)

    def retry_after_for(self, response: requests.Response) -> float | None:
        """Seconds the platform asks us to wait: Retry-After, or on a 429 the platform's
        X-RateLimit-Reset as it declares it (rate_limit_reset)."""
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        reset = response.headers.get("X-RateLimit-Reset")
        if retry_after is not None or response.status_code != 429 or not reset:
            return retry_after
        try:
            value = float(reset)
        except ValueError:
            return None
        if self.rate_limit_reset == "epoch":
            return max(1.0, value - clock.now())
        if self.rate_limit_reset == "seconds":
            return max(1.0, value)
        return None

    def error_class_for(self, status: int, code: str) -> type[PlatformError]:
        """Which typed error a failed response is (platforms with quirks override)."""
        if status == 401:
            return AuthError
        if status == 403:
            return PermissionDenied
        if status == 404:
            return NotFound
        if status == 429:
            return RateLimited
        if status == 408 or status >= 500:
            return TransientError
        return ValidationFailed

    def describe_error(self, response: requests.Response) -> tuple[str, str]:
        """(the platform's error code, a short message) from an error response.

        The body is decoded here once; a platform reads its own error shape in error_detail.
        """
        try:
            data = response.json()
        except ValueError:
            return "", response.text[:200].strip()
        code, message = self.error_detail(data) or generic_error_detail(data)
        return code, message[:300]

    def error_detail(self, data: Any) -> tuple[str, str] | None:
        """A platform's (code, message) from its decoded error body; None: not its shape."""
        return None

    def redact(self, text: str) -> str:
        """Replace every secret that appears in `text`, in any form it travels in.

        The forms: the credential values and the OAuth token as they are, URL-encoded and in
        base64, and the exact Authorization values this client has sent (a Basic header is
        base64 of `user:key`, which no single credential matches).
        """
        for value in self._secret_forms():
            if value in text:
                text = text.replace(value, REDACTED)
            # A platform message cut short may end in the first characters of a secret.
            for end in range(len(value) - 1, 3, -1):
                if text.endswith(value[:end]):
                    text = text[:-end] + REDACTED
                    break
        return text

    def _secret_forms(self) -> list[str]:
        # Built once per set of secrets: a sync redacts every record message it stores.
        token = str(getattr(self, "_oauth_token", None) or "")
        key = (token, len(self._sent_authorizations))
        cached = getattr(self, "_forms_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        secret_keys = {f.key for f in self.credential_fields if f.secret}
        values = [*(str(v) for k, v in self._secrets.items() if k in secret_keys), token]
        forms = set(self._sent_authorizations)
        for value in values:
            if len(value) >= 4:
                forms |= {
                    value,
                    quote(value, safe=""),
                    quote_plus(value),
                    base64.b64encode(value.encode()).decode(),
                }
        # The longest first, so that a form containing another is replaced whole.
        ordered = sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)
        self._forms_cache = (key, ordered)
        return ordered

    def _remember_authorization(self, request: requests.PreparedRequest | None) -> None:
        header = (request.headers.get("Authorization", "") if request is not None else "") or ""
        credentials = header.split(" ", 1)[-1].strip()
        if credentials:
            self._sent_authorizations.add(credentials)

    # --- helpers for subclasses --------------------------------------------------------------

    def format_value(self, value: Any) -> Any:
        """Turn dates into the platform's timestamp format; leave other values alone.

        A plain date is midnight UTC of that day, so a field keeps one type on the platform.
        """
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            fmt = self.limits.timestamp_format
            if fmt is TimestampFormat.UNIX_SECONDS:
                return int(value.timestamp())
            if fmt is TimestampFormat.UNIX_MILLISECONDS:
                return int(value.timestamp() * 1000)
            if fmt is TimestampFormat.SPACE_SEPARATED_UTC:
                return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            return value.isoformat()
        return value

    def format_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {key: self.format_value(value) for key, value in fields.items()}

    def entry_for(self, record: ContactRecord) -> dict:
        """The entry this record becomes in a batch request (platforms override with their
        shape); previews show whole requests (build_upsert_requests), not entries."""
        fields = {k: v for k, v in record.fields.items() if k != record.identifier_field}
        return {record.identifier_field: record.identifier, **self.format_fields(fields)}

    def rule_violation(
        self, record: ContactRecord, types: dict[str, str]
    ) -> rules.Violation | None:
        """The first of the platform's rules this record breaks (`types`: its target fields'
        types), the entry size limit included; None when the platform would take it. Checked
        in the order a run meets them: the client's local checks, then the platform's."""
        local, remote = self._rules_by_side()
        found = rules.first_violation(
            local, record.identifier_field, record.identifier, record.fields
        ) or self._size_violation(orjson.dumps(self.entry_for(record)))
        return found or rules.first_violation(
            remote, record.identifier_field, record.identifier, record.fields, types
        )

    @classmethod
    def _rules_by_side(cls) -> tuple[tuple[rules.Rule, ...], tuple[rules.Rule, ...]]:
        """(the rules the client checks before sending, those the platform checks)."""
        return (
            tuple(rule for rule in cls.contact_rules if rule.local),
            tuple(rule for rule in cls.contact_rules if not rule.local),
        )

    def _size_violation(self, raw: bytes) -> rules.Violation | None:
        limit = self.limits.record_max_bytes
        if len(raw) <= limit:
            return None
        return rules.Violation(
            "entry_too_large",
            f"{len(raw):,} bytes; {self.label} takes at most {limit:,} a contact.",
        )

    def encode_records(
        self, records: Sequence[ContactRecord], build: Callable[[ContactRecord], dict]
    ) -> tuple[list[tuple[ContactRecord, bytes]], list[RecordResult]]:
        """Encode each record's request entry. One that breaks a rule the client checks
        locally, or is over the platform's size limit, is rejected here, unsent, rather than
        failing its whole batch."""
        from integrations.platforms.types import Outcome

        local, _ = self._rules_by_side()
        encoded, rejected = [], []
        for record in records:
            raw = orjson.dumps(build(record))
            found = rules.first_violation(
                local, record.identifier_field, record.identifier, record.fields
            ) or self._size_violation(raw)
            if found:
                hint = (
                    "Map fewer or shorter fields."
                    if found.code == "entry_too_large"
                    else "Correct the subscriber's data in SharpSend."
                )
                rejected.append(
                    RecordResult(
                        record.key,
                        Outcome.REJECTED_DATA,
                        code=found.code,
                        message=found.message,
                        hint=hint,
                    )
                )
            else:
                encoded.append((record, raw))
        return encoded, rejected

    # --- asynchronous bulk jobs (SendGrid, Klaviyo, Mailchimp batches …) -------------------

    # Set by the sync service: told when a job is submitted (to checkpoint it) and of its state.
    job_listener: JobListener | None = None

    def run_job(
        self,
        records: Sequence[ContactRecord],
        submit: Callable[[Sequence[ContactRecord]], dict],
    ) -> list[RecordResult]:
        """Submit a bulk job for `records`, checkpoint it, then wait for its results.

        `submit` returns the job as a JSON-able dict; the platform's `collect_job(job,
        records)` polls it and maps its results to records.
        """
        job = submit(records)
        if self.job_listener is not None:
            self.job_listener.job_submitted(job)
        return self.collect_job(job, records)

    def collect_job(self, job: dict, records: Sequence[ContactRecord]) -> list[RecordResult]:
        """Wait for a submitted job and map its results (platforms with bulk jobs override)."""
        raise self.unsupported(Capability.UPSERT_CONTACTS)

    def poll(
        self,
        check: Callable[[], tuple[bool, str]],
        *,
        first_wait: float = 1.0,
        max_wait: float = 30.0,
        timeout: float = 3600.0,
    ) -> None:
        """Call `check` (→ done?, state text) with growing waits until done or `timeout`."""
        waited, wait = 0.0, first_wait
        while True:
            done, state = check()
            if self.job_listener is not None:
                self.job_listener.job_progress(state)
            if done:
                return
            if waited >= timeout:
                raise TransientError(
                    f"{self.label}: the bulk job was still '{state}' after {timeout:.0f} s."
                )
            clock.sleep(wait)
            waited += wait
            wait = min(max_wait, wait * 2)

    def send_each(
        self,
        planned: Sequence[PlannedRequest],
        send_one: Callable[[PlannedRequest], RecordResult],
        reject_data: Callable[[ContactRecord, ValidationFailed], RecordResult],
    ) -> list[RecordResult]:
        """One record at a time (each planned request carries one), for platforms without a
        bulk endpoint.

        A record the platform refuses (validation) gets its own outcome; a failure that would
        hit every following record too (auth, throttling, outage) stops here: those records
        are not sent now and stay pending for the next run.
        """
        results: list[RecordResult] = []
        for index, request in enumerate(planned):
            try:
                results.append(send_one(request))
            except ValidationFailed as exc:
                results.extend(reject_data(record, exc) for record in request.records)
            except PlatformError as exc:
                rest = [record for later in planned[index:] for record in later.records]
                results.extend(failed_results(rest, exc))
                break
        return results

    def region_accepting_key(
        self, method: str, surface: str, path: str, *, forbidden_means_known=False, **kwargs
    ) -> str:
        """After a 401: another region (data centre, instance) whose host accepts these
        credentials, or "". A platform that answers a known key without the permission
        with 403 passes forbidden_means_known."""
        for other in self.regions:
            if other == self.region:
                continue
            try:
                self.request(method, surface, path, region=other, **kwargs)
            except PermissionDenied:
                if not forbidden_means_known:
                    continue
            except (AuthError, ConfigurationError, ValidationFailed):
                continue
            return other
        return ""

    def permits(self, method: str, surface: str, path: str, **kwargs) -> bool:
        """Whether this key may make a call (a cheap probe); False on a 403 for it."""
        try:
            self.request(method, surface, path, **kwargs)
        except PermissionDenied:
            return False
        return True

    def results_by_index(
        self,
        group: list[tuple[ContactRecord, bytes]],
        errors: Iterable[dict],
        index_of: Callable[[dict], int | None],
        reject: Callable[[ContactRecord, list[dict]], RecordResult],
        describe: Callable[[dict], tuple[str, str]],
    ) -> list[RecordResult]:
        """Outcomes of a batch whose answer lists errors by entry position.

        `index_of(error)` is the entry an error names (None when it names none); `reject`
        turns an entry's errors into its outcome. An error that names no entry leaves every
        other record of the batch unconfirmed: they are reported unknown (sent again next run)
        rather than written. `describe(error)` gives that error's (code, message).
        """
        from integrations.platforms.types import Outcome

        placed: dict[int, list[dict]] = {}
        unplaced: list[dict] = []
        for error in errors:
            index = index_of(error) if isinstance(error, dict) else None
            if isinstance(index, int) and 0 <= index < len(group):
                placed.setdefault(index, []).append(error)
            else:
                unplaced.append(error)
        results = []
        for index, (record, _) in enumerate(group):
            if index in placed:
                results.append(reject(record, placed[index]))
            elif unplaced:
                code, message = describe(unplaced[0]) if isinstance(unplaced[0], dict) else ("", "")
                results.append(
                    RecordResult(
                        record.key,
                        Outcome.UNKNOWN,
                        code=code or "unplaced_error",
                        message=self.redact(message)[:300],
                        hint=f"{self.label} reported an error for this batch without saying "
                        "which entry; the batch is sent again on the next run.",
                    )
                )
            else:
                results.append(RecordResult(record.key, Written.WRITTEN))
        return results

    def send_groups(
        self,
        planned: Iterable[PlannedRequest],
        send: Callable[[PlannedRequest], list[RecordResult]],
    ) -> list[RecordResult]:
        """Send each planned request with `send`; one whose call fails gets that failure as
        its records' outcome.

        After an auth or permission failure the remaining groups are not sent: they would fail
        the same way, and the run stops on it.
        """
        results: list[RecordResult] = []
        stopped: PlatformError | None = None
        for request in planned:
            records = request.records
            if stopped is None:
                try:
                    results.extend(send(request))
                    continue
                except PlatformError as exc:
                    if isinstance(exc, (AuthError, PermissionDenied, ConfigurationError)):
                        stopped = exc
                    results.extend(failed_results(records, exc))
                    continue
            results.extend(failed_results(records, stopped))
        return results

    def send_planned(
        self, planned: PlannedRequest, ok: Iterable[int] = (200,)
    ) -> requests.Response:
        """Send a planned request as it was planned (body byte for byte)."""
        return self.request(
            planned.method,
            planned.surface,
            planned.path,
            content=planned.content,
            params=dict(planned.params) or None,
            rate=planned.rate,
            ok=ok,
        )

    def batch_requests(
        self,
        groups: Iterable[list[tuple[ContactRecord, bytes]]],
        envelope: bytes,
        method: str,
        surface: str,
        path: str,
        rate: str | None = None,
    ) -> list[PlannedRequest]:
        """One request a group: `envelope` with the group's entries in its (last) `[]`."""
        return [
            PlannedRequest(
                method,
                surface,
                path,
                join_entries(envelope, [raw for _, raw in group]),
                tuple(group),
                rate=rate,
            )
            for group in groups
        ]

    def request_each(
        self,
        encoded: Iterable[tuple[ContactRecord, bytes]],
        method: str,
        surface: str,
        path: str,
        note: str = "",
        **options: Any,
    ) -> list[PlannedRequest]:
        """One request a record, its entry being the whole body."""
        return [
            PlannedRequest(method, surface, path, raw, ((record, raw),), note=note, **options)
            for record, raw in encoded
        ]

    def show_request(self, planned: PlannedRequest) -> dict:
        """A planned request for people to read: method, URL, body, whom it carries, and a
        note. No headers: they would carry credentials."""
        url = self.base_url(planned.surface) + planned.path
        if planned.params:
            url += "?" + urlencode(planned.params)
        return {
            "method": planned.method,
            "url": self.redact(url),
            "subscribers": [record.key for record in planned.records],
            "body": planned.body,
            "note": planned.note,
        }

    def pack(
        self, items: Iterable[tuple[Any, bytes]], envelope_bytes: int
    ) -> Iterator[list[tuple[Any, bytes]]]:
        """Group encoded items so that each group's body stays within the batch limits.

        `envelope_bytes` is the size of the request body around the items; items are joined
        by one comma each.
        """
        group: list[tuple[Any, bytes]] = []
        size = envelope_bytes
        for item, encoded in items:
            added = len(encoded) + (1 if group else 0)
            if group and (
                size + added > self.limits.batch_max_bytes
                or len(group) >= self.limits.batch_max_records
            ):
                yield group
                group, size, added = [], envelope_bytes, len(encoded)
            group.append((item, encoded))
            size += added
        if group:
            yield group


def generic_error_detail(data: Any) -> tuple[str, str]:
    """(code, message) from the error shapes most APIs share: code/message/error keys."""
    if isinstance(data, dict):
        code = str(data.get("code") or data.get("error_code") or "")
        message = data.get("message") or data.get("msg") or data.get("error") or ""
        if isinstance(message, dict):
            message = message.get("message") or str(message)
        return code, str(message)
    return "", str(data)[:200]


class JobListener:
    """What the sync service hears from a client running an asynchronous bulk job."""

    def job_submitted(self, job: dict) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def job_progress(self, state: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def join_entries(envelope: bytes, entries: Sequence[bytes]) -> bytes:
    """A batch body: `envelope` with the encoded entries put into its last `[]`."""
    head, tail = envelope.rsplit(b"[]", 1)
    return head + b"[" + b",".join(entries) + b"]" + tail


def failed_results(records: Sequence[ContactRecord], exc: PlatformError) -> list[RecordResult]:
    """The outcome of records whose whole request failed with `exc`."""
    from integrations.platforms.types import Outcome

    if isinstance(exc, (AuthError, PermissionDenied)):
        outcome, hint = (
            Outcome.REJECTED_AUTH,
            "The platform refused the credentials: run Test connection.",
        )
    elif isinstance(exc, RateLimited):
        outcome, hint = (
            Outcome.THROTTLED,
            "Rate limited by the platform; sent again on the next run.",
        )
    elif isinstance(exc, TransientError):
        outcome, hint = (
            Outcome.UNKNOWN,
            "The platform did not answer properly; sent again on the next run.",
        )
    elif isinstance(exc, ConfigurationError):
        outcome, hint = Outcome.REJECTED_AUTH, "Fix the integration's settings."
    elif isinstance(exc, ValidationFailed):
        outcome, hint = Outcome.REJECTED_DATA, "The platform refused the batch; see the message."
    else:
        outcome, hint = Outcome.UNKNOWN, "Unexpected platform answer; sent again on the next run."
    return [
        RecordResult(
            r.key,
            outcome,
            code=exc.code or exc.kind,
            message=exc.message,
            hint=hint,
            whole_request=True,
        )
        for r in records
    ]
