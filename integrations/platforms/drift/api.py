"""Drift's one surface, shared by the client's parts."""

from __future__ import annotations

API = "api"
