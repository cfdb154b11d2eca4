"""The base platform client, assembled from one mixin a job.

Each platform package subclasses PlatformClient, declares what it can do (declarations.py:
capabilities, credential fields, regions and hosts, limits) and implements only those
capabilities; anything not declared raises UnsupportedCapability. The machinery every platform
shares is written once here:

- access.py: credentials, hosts, auth (OAuth tokens handed in by the console)
- transport.py: the one way to call a platform (shared rate limit, retries, metering)
- failures.py: a failed response as a typed error; redaction of every form of a secret
- encoding.py: records as request entries, the platform's rules, grouping into batches
- batching.py: planned requests, bulk jobs, per-record outcomes
- sending.py: campaign sends, step by step, resumable through the console's send ledger
- webhook_registration.py: the console's webhook created on the platform, never twice
"""

from __future__ import annotations

import requests

from integrations.platforms import runtime as runtime_module
from integrations.platforms import urlpolicy
from integrations.platforms.access import Access
from integrations.platforms.batching import Batching, JobListener
from integrations.platforms.declarations import PlatformDeclarations
from integrations.platforms.encoding import Encoding, join_entries
from integrations.platforms.failures import (
    REDACTED,
    Failures,
    failed_results,
    generic_error_detail,
    parse_retry_after,
)
from integrations.platforms.journeys import JourneyTriggering
from integrations.platforms.runtime import Runtime, TokenSource
from integrations.platforms.scheduling import Unscheduling
from integrations.platforms.sending import CampaignSending
from integrations.platforms.transport import Transport
from integrations.platforms.webhook_registration import WebhookRegistering

__all__ = [
    "REDACTED",
    "JobListener",
    "PlatformClient",
    "failed_results",
    "generic_error_detail",
    "join_entries",
    "parse_retry_after",
]


class PlatformClient(
    PlatformDeclarations,
    Access,
    Transport,
    Failures,
    Encoding,
    Batching,
    CampaignSending,
    Unscheduling,
    JourneyTriggering,
    WebhookRegistering,
):
    """Base of every platform client: one integration's connection to its platform.

    `runtime` is the console's rate limiter, meter and token store (the installed one unless
    handed another).
    """

    def __init__(self, integration, runtime: Runtime | None = None):
        self.integration = integration
        self.runtime = runtime or runtime_module.current()
        self.region = integration.region or self.default_region()
        self.session = urlpolicy.guarded_session(requests.Session())
        self.calls = 0
        self.warnings: list[str] = []  # things a run should tell the user, not failures
        self._secrets = integration.secrets
        self._sent_authorizations: set[str] = set()
        self._tokens: TokenSource | None = None
        self._oauth_token: str | None = None
