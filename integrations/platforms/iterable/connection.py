"""Iterable: the API key header and the connection test (key, data center, write access)."""

from __future__ import annotations

from integrations.platforms.auth import HeaderKeyAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import AuthError
from integrations.platforms.iterable.api import API
from integrations.platforms.types import Capability, ConnectionReport


class IterableConnection(PlatformClient):
    def auth_for(self, surface: str):
        return HeaderKeyAuth("Api-Key", self.credential("api_key"))

    def test_connection(self) -> ConnectionReport:
        try:
            lists = self.request("GET", API, "/api/lists").json().get("lists", [])
        except AuthError:
            return self._refused_key_report()
        # An empty bulk update writes nothing; a key that may not write is refused here
        # (Iterable answers a read-only key's write with a 401).
        can_write = self.permits(
            "POST",
            API,
            "/api/users/bulkUpdate",
            json={"users": []},
            rate="users.bulkUpdate",
            ok=(200, 400),
            unauthorized_means_no=True,
        )
        if not can_write:
            return ConnectionReport(
                ok=False,
                can_write=False,
                region=self.region,
                detail="This is a read-only Iterable key: it can read lists but not update "
                "users. Create a Server-side key (Integrations → API Keys).",
                permissions={
                    Capability.UPSERT_CONTACTS.value: False,
                    Capability.LIST_SEGMENTS.value: True,
                    Capability.LIST_FIELDS.value: True,
                },
            )
        account = f"Iterable project ({self.region.upper()}, {len(lists)} lists)"
        return ConnectionReport.writable(
            account=account,
            region=self.region,
            detail=f"Connected: {account}; the key can write users.",
            permissions={
                Capability.UPSERT_CONTACTS.value: True,
                Capability.LIST_SEGMENTS.value: True,
                Capability.LIST_FIELDS.value: True,
            },
        )

    def _refused_key_report(self) -> ConnectionReport:
        """A 401: tell a key of the other data center from a wrong key."""
        other = self.region_accepting_key("GET", API, "/api/lists")
        if other:
            return ConnectionReport.refused(
                region=other,
                detail=f"This key belongs to Iterable's {self.regions[other]} data center, but "
                f"the integration is set to {self.regions[self.region]}. Choose "
                f"{other.upper()}.",
            )
        return ConnectionReport.refused(
            detail="Iterable refused the API key. Check it under Integrations → API Keys "
            "(JavaScript and Mobile keys cannot be used here).",
        )
