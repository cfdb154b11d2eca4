"""Crisp people: fields, the profile writes (a few requests a contact), delete and export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from integrations.platforms.base import PlatformClient
from integrations.platforms.crisp.api import (
    API,
    NAME_PARTS,
    PROFILE_TARGETS,
    RESERVED,
    SEGMENTS,
    SUBSCRIBED,
)
from integrations.platforms.errors import NotFound, ValidationFailed
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PlannedRequest,
    RecordResult,
    TargetField,
    UpsertPlan,
)


class CrispContacts(PlatformClient):
    """Fields, the profile / data / subscription writes of each contact, delete and export."""

    def list_fields(self) -> list[TargetField]:
        fields = [
            TargetField("email", "Email", "email", required=True),
            TargetField("nickname", "Nickname (full name)", "string"),
            TargetField("first_name", "First name (joined into the nickname)", "string"),
            TargetField("last_name", "Last name (joined into the nickname)", "string"),
            TargetField("phone", "Phone", "string"),
            TargetField("company", "Company name", "string"),
            TargetField(SEGMENTS, "Segments (text or list)", "string"),
            TargetField(SUBSCRIBED, "Email subscription (true/false)", "boolean"),
        ]
        seen = set(RESERVED)
        for item in self._suggestions("data"):
            key = str(item.get("key", ""))
            if key and key not in seen:
                seen.add(key)
                fields.append(TargetField(key, f"{key} (custom data)", "string"))
        return fields

    def _parts(self, record: ContactRecord) -> tuple[dict, dict, bool | None]:
        """(profile body fields, custom data, wanted email subscription or None)."""
        fields = self.format_fields(
            {k: v for k, v in record.fields.items() if k != record.identifier_field}
        )
        profile: dict[str, Any] = {}
        names = [str(fields[p]).strip() for p in NAME_PARTS if fields.get(p) not in (None, "")]
        if names:
            profile.setdefault("person", {})["nickname"] = " ".join(n for n in names if n)
        for target, (group, key) in PROFILE_TARGETS.items():
            if fields.get(target) not in (None, ""):
                profile.setdefault(group, {})[key] = str(fields[target])
        segments = fields.get(SEGMENTS)
        if segments not in (None, "", []):
            values = segments if isinstance(segments, list) else [segments]
            profile[SEGMENTS] = [str(v) for v in values if v not in (None, "")]
        data = {
            k: v
            for k, v in fields.items()
            if k not in RESERVED and v is not None and not k.startswith("_")
        }
        wanted = fields.get(SUBSCRIBED)
        return profile, data, (bool(wanted) if wanted is not None else None)

    def entry_for(self, record: ContactRecord) -> dict:
        profile, data, wanted = self._parts(record)
        entry: dict[str, Any] = {"profile": {"email": record.identifier, **profile}}
        if data:
            entry["data"] = {"data": data}
        if wanted is not None:
            entry["subscription"] = {"email": wanted}
        return entry

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        by_record: dict[int, list[PlannedRequest]] = {}
        for planned in plan.requests:
            by_record.setdefault(planned.records[0].key, []).append(planned)
        # Each record's first request stands for all of its requests in send_groups.
        results = plan.rejected + self.send_groups(
            [requests[0] for requests in by_record.values()],
            lambda first: [self._write(by_record[first.records[0].key], update_existing)],
        )
        if by_record:
            self._quota_warning()
        return results

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        requests = []
        for record, _ in encoded:
            bad = self._bad_data(record)
            if bad:
                rejected.append(bad)
            else:
                requests += self._new_profile_requests(record)
        return UpsertPlan(requests, rejected)

    def _new_profile_requests(self, record: ContactRecord) -> list[PlannedRequest]:
        """A new profile's requests: create it, then its custom data, then (opted out) its
        email subscription. An existing profile gets its profile and data PATCHed instead."""
        profile, data, wanted = self._parts(record)
        email = record.identifier
        note = (
            "As sent for a new profile. The client first reads the profile's subscription "
            "(GET …/people/subscription/…); an existing profile gets PATCH …/people/profile/… "
            "with these profile fields."
        )
        bodies = [("POST", f"{self.website}/people/profile", {"email": email, **profile}, note)]
        if data:
            bodies.append(("PATCH", self.people("data", email), {"data": data}, ""))
        if wanted is False:
            bodies.append(("PATCH", self.people("subscription", email), {"email": False}, ""))
        requests = []
        for method, path, body, text in bodies:
            raw = orjson.dumps(body)
            requests.append(PlannedRequest(method, API, path, raw, ((record, raw),), note=text))
        return requests

    def _bad_data(self, record: ContactRecord) -> RecordResult | None:
        _, data, _ = self._parts(record)
        wrong = sorted(k for k, v in data.items() if not isinstance(v, str | int | float | bool))
        if not wrong:
            return None
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code="invalid_data",
            message=f"Crisp custom data takes text, numbers and booleans; not {', '.join(wrong)}.",
            hint="Map those fields to plain values, or leave them out.",
        )

    def _write(self, planned: list[PlannedRequest], update_existing: bool) -> RecordResult:
        create, *rest = planned
        [record] = create.records
        by_path = {request.path: request for request in rest}
        profile, data, wanted = self._parts(record)
        email = record.identifier
        try:
            try:
                current = self.request("GET", API, self.people("subscription", email)).json()
                subscribed = bool((current.get("data") or {}).get("email", True))
                exists = True
            except NotFound:
                exists, subscribed = False, True
            if exists and not update_existing:
                return RecordResult(
                    record.key,
                    Outcome.UNCHANGED,
                    code="exists",
                    message="The profile already exists in Crisp; kept as it is.",
                )
            if exists and wanted and not subscribed:
                return RecordResult(
                    record.key,
                    Outcome.REJECTED_COMPLIANCE,
                    code="unsubscribed",
                    message="The person unsubscribed from email in Crisp.",
                    hint="Crisp records their opt-out; the console does not resubscribe "
                    "anyone. Sent again once they resubscribe in Crisp.",
                )
            if exists:
                if profile:
                    self.request("PATCH", API, self.people("profile", email), json=profile)
            else:
                try:
                    self.send_planned(create, ok=(200, 201))
                except ValidationFailed as exc:
                    if exc.code != "people_exists":
                        raise
                    exists = True  # created meanwhile: update it instead
                    if profile:
                        self.request("PATCH", API, self.people("profile", email), json=profile)
            if data:
                self.send_planned(by_path[self.people("data", email)])
            if wanted is False and subscribed:
                self.send_planned(by_path[self.people("subscription", email)])
        except ValidationFailed as exc:
            return RecordResult(
                record.key,
                Outcome.REJECTED_DATA,
                code=exc.code,
                message=exc.message,
                hint="Crisp refused the profile; fix the subscriber's data or the mapping "
                "(custom data keys: letters, digits, _ and -).",
            )
        return RecordResult(record.key, Outcome.UPDATED if exists else Outcome.CREATED)

    def delete_contact(self, identifier: str) -> None:
        """Remove the people profile (its conversations are separate objects in Crisp)."""
        try:
            self.request("DELETE", API, self.people("profile", identifier))
        except NotFound:
            pass

    def export_contact(self, identifier: str) -> dict:
        """The profile, its custom data and its email subscription."""
        try:
            profile = self.request("GET", API, self.people("profile", identifier)).json()
        except NotFound:
            return {"found": False, "profile": {}, "data": {}, "subscription": {}}
        data = self.request("GET", API, self.people("data", identifier)).json()
        subscription = self.request("GET", API, self.people("subscription", identifier)).json()
        return {
            "found": True,
            "profile": profile.get("data") or {},
            "data": (data.get("data") or {}).get("data") or {},
            "subscription": subscription.get("data") or {},
        }
