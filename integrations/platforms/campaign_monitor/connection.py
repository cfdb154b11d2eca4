"""Campaign Monitor's auth (the key as Basic user name), error shape and connection test."""

from __future__ import annotations

from requests.auth import HTTPBasicAuth

from integrations.platforms.base import PlatformClient
from integrations.platforms.campaign_monitor.api import API, V
from integrations.platforms.errors import AuthError, NotFound, PermissionDenied, ValidationFailed
from integrations.platforms.types import Capability, ConnectionReport


class CampaignMonitorConnection(PlatformClient):
    """Basic auth, the client and list ids, {Code, Message} errors, test_connection."""

    def _warn(self, message: str) -> None:
        if message not in self.warnings:  # once per run, not once per record
            self.warnings.append(message)

    def auth_for(self, surface: str):
        return HTTPBasicAuth(self.credential("api_key"), "x")

    @property
    def list_id(self) -> str:
        return self.credential("list_id")

    @property
    def client_id(self) -> str:
        return self.credential("client_id")

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and "Code" in data:
            return str(data.get("Code", "")), str(data.get("Message", ""))[:300]
        return None

    # --- connection ----------------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        try:
            self.request("GET", API, f"{V}/systemdate.json")
        except AuthError:
            return ConnectionReport.refused(
                detail="Campaign Monitor refused the API key. Copy it again from Account "
                "settings → API keys.",
            )
        scope = "account"
        try:
            clients = self.request("GET", API, f"{V}/clients.json").json()
            if not any(c.get("ClientID") == self.client_id for c in clients):
                names = ", ".join(f"{c.get('Name')} ({c.get('ClientID')})" for c in clients[:5])
                return ConnectionReport.refused(
                    detail=f"This account has no client with the ID {self.client_id}. Its "
                    f"clients: {names or 'none'}.",
                )
        except (AuthError, PermissionDenied):
            scope = "client"  # a client API key cannot list the account's clients
        try:
            lists = self.request("GET", API, f"{V}/clients/{self.client_id}/lists.json").json()
        except (AuthError, PermissionDenied, NotFound, ValidationFailed):
            return ConnectionReport.refused(
                detail=f"The API key cannot reach the client {self.client_id}: it is a client "
                "API key of another client, or the Client ID is wrong. Use the account API "
                "key, or the key of this client.",
            )
        listed = next((item for item in lists if item.get("ListID") == self.list_id), None)
        if listed is None:
            names = ", ".join(f"{item.get('Name')} ({item.get('ListID')})" for item in lists[:5])
            return ConnectionReport.refused(
                detail=f"The client has no list with the ID {self.list_id}. Its lists: "
                f"{names or 'none'}.",
            )
        account = f"{listed.get('Name', self.list_id)} (client {self.client_id})"
        kind = "an account API key" if scope == "account" else "a client API key"
        return ConnectionReport(
            ok=True,
            # Campaign Monitor keys carry no scopes: any key that reaches the list may write.
            can_write=True,
            account=account,
            region=self.region,
            detail=f"Connected to the list {account} with {kind}.",
            permissions={
                Capability.UPSERT_CONTACTS.value: True,
                Capability.LIST_FIELDS.value: True,
                Capability.LIST_SEGMENTS.value: True,
            },
        )
