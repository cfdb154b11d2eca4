"""Customer.io's two surfaces and the Track API's batch envelope, shared by the client's parts."""

from __future__ import annotations

TRACK = "track"  # people and events: Basic site id : track key
APP = "app"  # segments and workspaces: Bearer app key
ENVELOPE = b'{"batch":[]}'
