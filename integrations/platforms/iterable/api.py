"""Iterable's surface and the bulkUpdate envelope, shared by the client's parts."""

from __future__ import annotations

API = "api"

# The body every bulkUpdate batch is packed into (its users go in the empty list).
ENVELOPE = b'{"users":[],"createNewFields":true}'
