"""What the SendGrid emulator's endpoints share: the reserved and writable fields, ids of
lists and contacts, custom fields as stored, list and segment counts, and the jobs."""

from __future__ import annotations

import re
import threading
import uuid

from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxSegment
from integrations.sandbox.sendgrid.auth import PLATFORM

_NAMESPACE = uuid.UUID("5e4d0000-0000-4000-8000-00000000c0de")
IDENTIFIERS = ("email", "external_id", "phone_number_id", "anonymous_id")
RESERVED = (
    ("first_name", "Text", 50), ("last_name", "Text", 50), ("email", "Text", 254),
    ("alternate_emails", "Text", None), ("address_line_1", "Text", 100),
    ("address_line_2", "Text", 100), ("city", "Text", 60),
    ("state_province_region", "Text", 50), ("postal_code", "Text", None),
    ("country", "Text", 50), ("phone_number", "Text", None), ("whatsapp", "Text", None),
    ("line", "Text", None), ("facebook", "Text", None), ("unique_name", "Text", None),
    ("external_id", "Text", 254), ("anonymous_id", "Text", 254),
    ("phone_number_id", "Text", None),
)  # fmt: skip
# What the upsert takes at the top level (ContactRequest); the other reserved fields are
# listed by field_definitions but refused there.
WRITABLE = (
    "first_name",
    "last_name",
    "email",
    "alternate_emails",
    "address_line_1",
    "address_line_2",
    "city",
    "state_province_region",
    "postal_code",
    "country",
    "external_id",
    "anonymous_id",
    "phone_number_id",
)
READ_ONLY = (
    ("email_domains", "Text"), ("last_clicked", "Date"), ("last_opened", "Date"),
    ("last_emailed", "Date"), ("created_at", "Date"), ("updated_at", "Date"),
    ("contact_id", "Text"),
)  # fmt: skip
_TYPE_LETTER = {"Text": "T", "Number": "N", "Date": "D"}
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)

_jobs: dict[str, dict] = {}
_jobs_lock = threading.Lock()


def list_uuid(remote_id: int) -> str:
    return f"00000000-0000-4000-8000-{remote_id:012d}"


def contact_id(account: str, identifier: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{account}:{identifier}"))


def _custom_fields(account: str) -> dict[str, SandboxFieldType]:
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account)
    return {f"e{row.pk}_{_TYPE_LETTER[row.type]}": row for row in rows}


def _list_members(account: str, list_id: str) -> int:
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account).values_list(
        "attributes", flat=True
    )
    return sum(1 for attrs in rows if list_id in (attrs or {}).get("list_ids", []))


def _segment_count(segment: SandboxSegment) -> int:
    if segment.kind == "list":
        return _list_members(segment.account, list_uuid(segment.remote_id))
    return segment.members().count()


def reset_jobs() -> None:
    with _jobs_lock:
        _jobs.clear()
