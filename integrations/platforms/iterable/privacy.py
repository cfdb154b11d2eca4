"""Iterable privacy: export a user (getByEmail / byUserId) and delete one (asynchronous on
Iterable's side). Facts: ../shared/platforms/iterable.md §9 and the spec's /api/users paths."""

from __future__ import annotations

from urllib.parse import quote

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound
from integrations.platforms.iterable.api import API


def _user_path(identifier: str) -> str:
    """An email or user id as a path segment (one containing `/` must be encoded)."""
    if "@" in identifier:
        return f"/api/users/{quote(identifier, safe='@')}"
    return f"/api/users/byUserId/{quote(identifier, safe='')}"


class IterablePrivacy(PlatformClient):
    def delete_contact(self, identifier: str) -> None:
        """Delete the user's data (Iterable processes it asynchronously). This is not the
        GDPR "forget", which also blocks future collection (3 requests/s, 1,000 a day): the
        console's own suppression keeps a forgotten reader from being sent again."""
        try:
            self.request("DELETE", API, _user_path(identifier))
        except NotFound:
            return  # no such user

    def export_contact(self, identifier: str) -> dict:
        """The user's profile with its data fields ({"found": False} when Iterable has none)."""
        try:
            if "@" in identifier:
                data = self.request(
                    "GET", API, "/api/users/getByEmail", params={"email": identifier}
                ).json()
            else:
                data = self.request("GET", API, _user_path(identifier)).json()
        except NotFound:
            data = {}
        user = (data or {}).get("user") or {}
        return {"found": bool(user), "user": user}
