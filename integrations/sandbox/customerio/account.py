"""The workspace: region discovery (Track API) and the workspace list (App API)."""

from __future__ import annotations

from django.views.decorators.http import require_GET

from integrations.sandbox.customerio.auth import APP, PLATFORM, TRACK
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxContact


def environment_id(account) -> int:
    return 101 if account.region == "us" else 102


@require_GET
@TRACK.endpoint(any_region=True)
def region(request, account):
    # Region discovery works on either track host: that is how a client finds its region.
    suffix = "-eu" if account.region == "eu" else ""
    return json_response(
        {
            "url": f"https://track{suffix}.customer.io",
            "region": account.region,
            "environment_id": environment_id(account),
        }
    )


@require_GET
@APP.endpoint()
def workspaces(request, account):
    people = SandboxContact.objects.filter(platform=PLATFORM, account=account.account).count()
    return json_response(
        {
            "workspaces": [
                {
                    "id": environment_id(account),
                    "name": account.name,
                    "messages_sent": 0,
                    "billable_messages_sent": 0,
                    "people": people,
                    "object_types": 0,
                    "objects": 0,
                }
            ]
        }
    )
