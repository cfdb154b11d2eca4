"""Braze: the REST key, error bodies, and the connection test (permissions, instances)."""

from __future__ import annotations

from integrations.platforms.auth import BearerAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.braze.api import (
    INSTANCES,
    MISSING_EFFECT,
    PERMISSIONS,
    PROBE_EXPORT,
    PROBE_TRACK,
    REST,
    error_text,
)
from integrations.platforms.errors import AuthError, PermissionDenied
from integrations.platforms.types import Capability, ConnectionReport


class BrazeConnection(PlatformClient):
    """The REST key, Braze's error bodies, and the connection test."""

    def auth_for(self, surface: str):
        return BearerAuth(self.credential("api_key"))

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and "message" in data:
            message = str(data.get("message") or "")
            errors = data.get("errors")
            if isinstance(errors, list) and errors:
                message += " (" + "; ".join(error_text(e) for e in errors[:3]) + ")"
            return "", message[:300]
        return None

    def test_connection(self) -> ConnectionReport:
        permissions: dict[str, bool | None] = {}
        segments: list[dict] = []
        try:
            segments = self._segment_page(0)
            permissions["segments.list"] = True
        except AuthError:
            return self._refused_key_report()
        except PermissionDenied:
            permissions["segments.list"] = False
        # Each probe is a valid request that changes nothing, so only a missing permission
        # can refuse it (an empty array would be refused on shape, whatever the key may do).
        permissions["users.track"] = self.permits(
            "POST", REST, "/users/track", json=PROBE_TRACK, rate="users.track", ok=(200, 201)
        )
        permissions["custom_attributes.get"] = self.permits(
            "GET", REST, "/custom_attributes", rate="custom_attributes"
        )
        permissions["users.export.ids"] = self.permits(
            "POST",
            REST,
            "/users/export/ids",
            json=PROBE_EXPORT,
            rate="users.export.ids",
            ok=(200, 201),
        )
        report = {cap.value: permissions[name] for name, cap in PERMISSIONS.items()}
        report[Capability.DELETE_CONTACT.value] = None  # never probed: a delete is a delete
        instance = self.region.upper()
        account = f"Braze workspace on {instance}" + (
            f" ({len(segments)} segments)" if permissions["segments.list"] else ""
        )
        missing = [name for name, allowed in permissions.items() if not allowed]
        if not permissions["users.track"]:
            return ConnectionReport(
                ok=False,
                can_write=False,
                account=account,
                region=self.region,
                detail="This Braze key lacks the users.track permission, so it cannot write "
                "users (missing: " + ", ".join(missing) + "). Permissions cannot be edited: "
                "create a new key under Settings → APIs and Identifiers with them ticked.",
                permissions=report,
            )
        detail = f"Connected to a Braze workspace on {instance}; the key can write users."
        if missing:
            detail += (
                " It lacks " + ", ".join(missing) + ": "
                + "; ".join(MISSING_EFFECT[name] for name in missing)
                + ". Create a new key with them ticked to use those features."
            )  # fmt: skip
        return ConnectionReport.writable(
            account=account,
            region=self.region,
            detail=detail,
            permissions=report,
        )

    def _refused_key_report(self) -> ConnectionReport:
        """A 401: Braze answers the same to a wrong key and to a key of another instance."""
        other = self.region_accepting_key(
            "GET", REST, "/segments/list", params={"page": 0}, forbidden_means_known=True
        )  # a 403 there: the key is known; it just may not list segments
        if other:
            return ConnectionReport.refused(
                region=other,
                detail=f"This key belongs to a Braze workspace on instance {other.upper()} "
                f"(dashboard {INSTANCES[other][1]}), but the integration is set to "
                f"{self.region.upper()}. Choose {other.upper()}.",
            )
        return ConnectionReport.refused(
            detail="Braze refused the REST API key on every instance. Check the key under "
            "Settings → APIs and Identifiers (copy it without quotes; an SDK key or an "
            "identifier does not work here), and its IP allow-list.",
        )
