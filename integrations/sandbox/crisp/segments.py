"""Crisp segments in the emulator: the free-text segments of profiles, with counts."""

from __future__ import annotations

from integrations.sandbox.crisp.auth import EMULATOR, PLATFORM, paged
from integrations.sandbox.models import SandboxContact


@EMULATOR.endpoint(methods=("GET",))
def suggest_segments(request, account, website_id, page):
    counts: dict[str, int] = {}
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    for attributes in rows.values_list("attributes", flat=True):
        for segment in attributes.get("segments", []):
            counts[segment] = counts.get(segment, 0) + 1
    items = [{"segment": s, "count": n} for s, n in sorted(counts.items())]
    return paged(request, items, page)
