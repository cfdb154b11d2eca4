"""Klaviyo: the private key and revision headers, error bodies, and the connection test."""

from __future__ import annotations

from requests.auth import AuthBase

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import AuthError, PermissionDenied, PlatformError
from integrations.platforms.klaviyo.api import API, AUTH_CODES, JOBS, MEDIA_TYPE, REVISION
from integrations.platforms.types import Capability, ConnectionReport


class KlaviyoKeyAuth(AuthBase):
    """`Authorization: Klaviyo-API-Key <key>`, and the JSON:API media type on bodies.

    The base client labels every body application/json; Klaviyo's documented type is set here,
    after the request is prepared, so it wins.
    """

    def __init__(self, key: str):
        self.key = key

    def __call__(self, request):
        request.headers["Authorization"] = f"Klaviyo-API-Key {self.key}"
        if request.body is not None:
            request.headers["Content-Type"] = MEDIA_TYPE
        return request


class KlaviyoConnection(PlatformClient):
    """The key, the pinned revision, Klaviyo's JSON:API errors, and the connection test."""

    def auth_for(self, surface: str):
        return KlaviyoKeyAuth(self.credential("private_api_key"))

    def headers_for(self, surface: str) -> dict[str, str]:
        return {"revision": REVISION, "Accept": MEDIA_TYPE}

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and isinstance(data.get("errors"), list) and data["errors"]:
            first = data["errors"][0]
            text = str(first.get("detail") or first.get("title") or "")
            return str(first.get("code", "")), text[:300]
        return None

    def error_class_for(self, status: int, code: str) -> type[PlatformError]:
        # Klaviyo documents a refused key as 400 in places and 401 in others.
        if status == 400 and code in AUTH_CODES:
            return AuthError
        return super().error_class_for(status, code)

    def test_connection(self) -> ConnectionReport:
        account = ""
        try:
            data = self.request("GET", API, "/api/accounts", rate="accounts").json()
            first = (data.get("data") or [{}])[0]
            info = first.get("attributes", {}).get("contact_information", {}) or {}
            account = info.get("organization_name") or str(first.get("id", ""))
        except AuthError:
            return ConnectionReport.refused(
                detail="Klaviyo refused the private API key. Check it under Settings → API "
                "keys (a public key / site ID does not work here, and a revoked key is refused).",
            )
        except PermissionDenied:
            pass  # a Custom key without Accounts: Read; the other probes still tell
        can_write = self.permits(
            "POST",
            API,
            JOBS,
            json={
                "data": {
                    "type": "profile-bulk-import-job",
                    "attributes": {"profiles": {"data": []}},
                }
            },
            rate="bulk_import",
            ok=(202, 400),
        )
        can_poll = self.permits(
            "GET", API, JOBS, params={"page[size]": 1}, rate="bulk_import.read", ok=(200,)
        )
        lists = self.permits("GET", API, "/api/lists", params={"page[size]": 1})
        segments = self.permits("GET", API, "/api/segments", params={"page[size]": 1})
        permissions = {
            Capability.UPSERT_CONTACTS.value: can_write and can_poll,
            Capability.LIST_SEGMENTS.value: lists and segments,
            Capability.LIST_FIELDS.value: can_poll,
            Capability.EXPORT_CONTACT.value: can_poll,
            Capability.DELETE_CONTACT.value: None,  # never probed: a deletion is a deletion
        }
        label = account or "Klaviyo account"
        if not can_write:
            return ConnectionReport(
                ok=False,
                can_write=False,
                account=label,
                region=self.region,
                detail="This Klaviyo key cannot write profiles (a Read-only key, or a Custom "
                "key without Profiles: Full and Lists: Full). Create a key with those scopes "
                "under Settings → API keys.",
                permissions=permissions,
            )
        if not can_poll:
            return ConnectionReport(
                ok=False,
                can_write=True,
                account=label,
                region=self.region,
                detail="This Klaviyo key can start profile imports but cannot read their "
                "results (it lacks Profiles: Read or Lists: Read), so no sync could tell what "
                "was imported. Give the key read access too.",
                permissions=permissions,
            )
        detail = f"Connected to Klaviyo account {label}; the key can import profiles."
        if not permissions[Capability.LIST_SEGMENTS.value]:
            detail += " It cannot read lists or segments: segment import is unavailable."
        return ConnectionReport.writable(
            account=label,
            region=self.region,
            detail=detail,
            permissions=permissions,
        )
