"""The Drift emulator's webhooks: made on the app's Events page on dev.drift.com (Drift's API
has no call for them), and what they post.

Real shapes (../shared/platforms/drift.md §9; devdocs.drift.com webhook-events-1 and
contact-update-subscriptions): one event a POST, `{"type", "token", "orgId", "data"}`, the
app's static Verification Token both as `token` and in the X-Verification-Token header (no
signature, no timestamp). `contact_identified` ("a contact added their email in chat", scope
contact_read) carries the contact, as the API shows it; `contact_updated` (scope
all_contact_read) carries `{"endUserId", "timestamp" (ms), "orgId", "diff": [{"name",
"previous", "updated"}]}`, the diff naming only what changed (`attributes.email`, or
`socialProfiles.twitter` for a key inside a map). The token belongs to the app (App
Credentials), one for every webhook; the sandbox index shows each org's.
"""

from __future__ import annotations

import orjson

from integrations.sandbox import inapp, outbound
from integrations.sandbox.drift.auth import ORG_IDS, PLATFORM, SCOPES
from integrations.sandbox.models import SandboxContact, SandboxWebhook

# The scope each event needs (drift.md §9).
EVENT_SCOPES = {"contact_identified": "contact_read", "contact_updated": "all_contact_read"}
# The emulator's change → the Drift event reporting it.
TOPICS = {"contact_created": "contact_identified", "contact_updated": "contact_updated"}


def verification_token(account: str) -> str:
    """The app's Verification Token in that org (fake, like every sandbox key)."""
    return f"sandbox-drift-verification-token-{account}"


def diff(before: dict, after: dict) -> list[dict]:
    """What changed between two sets of a contact's attributes, as Drift's diff names it."""
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if isinstance(old, dict | None) and isinstance(new, dict | None) and (old or new):
            changes += [
                {"name": f"{name}.{key}", "previous": was, "updated": now}
                for key, was, now in _inner(old or {}, new or {})
            ]
        else:
            changes.append({"name": f"attributes.{name}", "previous": old, "updated": new})
    return changes


def _inner(old: dict, new: dict):
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            yield key, old.get(key), new.get(key)


def record_updated(account: str, row: SandboxContact, before: dict) -> None:
    """A contact's attributes changed (through the API or in Drift): contact_updated."""
    changes = diff(before, row.attributes or {})
    if changes:
        email = (row.attributes or {}).get("email") or ""
        outbound.record_change(PLATFORM, account, "contact_updated", email=email,
                               contact_id=row.identifier, changes=changes)  # fmt: skip


def record_identified(account: str, row: SandboxContact) -> None:
    """A visitor gave their email in chat and became this contact: contact_identified."""
    outbound.record_change(PLATFORM, account, "contact_created",
                           email=(row.attributes or {}).get("email") or "",
                           contact_id=row.identifier, changes=diff({}, row.attributes or {}))  # fmt: skip


def _contact(event) -> dict:
    """The identified contact as the API shows it, from what the change set."""
    attributes = {c["name"].removeprefix("attributes."): c["updated"] for c in event.changes
                  if c["name"].startswith("attributes.")}  # fmt: skip
    return {
        "id": int(event.contact_id),
        "createdAt": int(event.occurred_at.timestamp() * 1000),
        "attributes": attributes,
    }


def _render(batch: outbound.Batch) -> bytes:
    (event,) = batch.events  # Drift posts one event a request
    org = ORG_IDS.get(batch.hook.account, 0)
    if batch.topic == "contact_identified":
        data = _contact(event)
    else:
        data = {
            "endUserId": int(event.contact_id),
            "timestamp": int(event.occurred_at.timestamp() * 1000),
            "orgId": org,
            "diff": event.changes,
        }
    return orjson.dumps(
        {"orgId": org, "type": batch.topic, "token": batch.hook.secret, "data": data}
    )


def _check(hook: SandboxWebhook) -> str:
    """Drift offers an event only to an app granted its scope."""
    granted = SCOPES.get(hook.account, "").split()
    missing = [f"{e} needs the {EVENT_SCOPES[e]} scope" for e in hook.events
               if EVENT_SCOPES[e] not in granted]  # fmt: skip
    return "; ".join(missing) + (" (App settings → Scopes)." if missing else "")


WEBHOOKS = outbound.Outbound(
    topics=TOPICS,
    render=_render,
    signer=PLATFORM,
    in_app=inapp.InApp(
        events=tuple(EVENT_SCOPES),
        secret=inapp.APP,
        secret_label="Verification Token",
        page="dev.drift.com → your app → Events",
        app_secret=verification_token,
        check=_check,
    ),
)
