"""The Mailchimp emulator's variate campaigns (Mailchimp's own A/B test).

Real shapes (../shared/platforms/mailchimp.md §7, §8; `variate_settings` as the Marketing API
describes it): `POST /3.0/campaigns` with `"type": "variate"` and `variate_settings`
{`winner_criteria` opens | clicks | total_revenue | manual, `wait_time` (minutes, whole hours,
> 0), `test_size` (10–100), `subject_lines[]`, `from_names[]` with as many
`reply_to_addresses[]`}; contents by `PUT .../content` `{"variate_contents": [{content_label,
html, plain_text}]}`. The combinations are every subject × from name × content (at most 8).

On send, the audience is frozen: `test_size` % of it (a stable hash of campaign and reader)
is the test, dealt round-robin across the combinations in hash order, each combination a
SandboxSend of kind "variate_test" sent at once. Once `wait_time` has passed since the send
(tests move `sent_at` back, as the metrics tests do), the next read of the campaign picks the
combination with the best unique open (or click) rate at that moment, from the sandbox's
deterministic engagement (the subject moves the open rate), and sends it to everyone else as
a SandboxSend of kind "variate_winner" (`winning_campaign_id`). `manual` and `total_revenue`
are never picked here. Every reader gets exactly one message: a combination or the winner.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from datetime import timedelta

from django.utils import timezone

from integrations.sandbox import engagement
from integrations.sandbox.mailchimp.auth import PLATFORM, problem
from integrations.sandbox.models import SandboxSend

CRITERIA = ("opens", "clicks", "total_revenue", "manual")
MAX_COMBINATIONS = 8
TEST, WINNER = "variate_test", "variate_winner"


def _invalid(field: str, message: str):
    return problem(400, "Invalid Resource", "The resource submitted could not be validated.",
                   [{"field": f"variate_settings.{field}", "message": message}])  # fmt: skip


def refused(body: dict):
    """The 400 a variate create gets for bad `variate_settings` (None when they are fine)."""
    settings = body.get("variate_settings")
    if not isinstance(settings, dict):
        return _invalid("", "A variate campaign needs variate_settings.")
    if settings.get("winner_criteria") not in CRITERIA:
        return _invalid("winner_criteria", "Choose opens, clicks, total_revenue or manual.")
    wait = settings.get("wait_time")
    if not isinstance(wait, int) or wait <= 0 or wait % 60:
        return _invalid("wait_time", "The wait time must be whole hours, in minutes, above 0.")
    size = settings.get("test_size")
    if not isinstance(size, int) or not 10 <= size <= 100:
        return _invalid("test_size", "The test size must be between 10 and 100.")
    for key in ("subject_lines", "from_names", "reply_to_addresses"):
        value = settings.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return _invalid(key, "Must be a list of non-empty strings.")
    if len(settings.get("from_names", [])) != len(settings.get("reply_to_addresses", [])):
        return _invalid("from_names", "from_names and reply_to_addresses must match in number.")
    if len(_variables(body, contents=1)[0]) > MAX_COMBINATIONS:
        return _invalid("", f"At most {MAX_COMBINATIONS} combinations.")
    return None


def _variables(body: dict, contents: int) -> tuple[list[tuple[int, int, int]], dict]:
    """Every (subject, from name, content) index combination, and the settings."""
    settings = body.get("variate_settings") or {}
    subjects = len(settings.get("subject_lines") or []) or 1
    senders = len(settings.get("from_names") or []) or 1
    combos = list(itertools.product(range(subjects), range(senders), range(max(contents, 1))))
    return combos, settings


def _contents(send: SandboxSend) -> list[dict]:
    return send.content.get("variate_contents") or []


def _combination_id(send: SandboxSend, index: int) -> str:
    return hashlib.blake2b(f"{send.remote_id}:{index}".encode(), digest_size=5).hexdigest()


def combinations(send: SandboxSend) -> list[dict]:
    """The campaign's combinations: id, the indexes used, and (once sent) recipients."""
    combos, _ = _variables(send.body, len(_contents(send)))
    tests = {t.body["combination_id"]: t for t in children(send, TEST)}
    rows = []
    for index, (subject, sender, content) in enumerate(combos):
        cid = _combination_id(send, index)
        test = tests.get(cid)
        rows.append({
            "id": cid, "subject_line": subject, "send_time": 0, "from_name": sender,
            "reply_to": sender, "content_description": content,
            "recipients": test.recipients if test else 0,
        })  # fmt: skip
    return rows


def version(send: SandboxSend, combination: dict) -> dict:
    """What one combination's message is: subject, from name, reply-to, content."""
    settings = send.body.get("settings") or {}
    variate = send.body.get("variate_settings") or {}
    contents = _contents(send)
    pick = lambda key, index, default: (variate.get(key) or [default])[index]  # noqa: E731
    content = contents[combination["content_description"]] if contents else send.content
    return {
        "subject_line": pick("subject_lines", combination["subject_line"],
                             settings.get("subject_line", "")),
        "from_name": pick("from_names", combination["from_name"], settings.get("from_name", "")),
        "reply_to": pick("reply_to_addresses", combination["reply_to"],
                         settings.get("reply_to", "")),
        "html": content.get("html", ""),
        "plain_text": content.get("plain_text", ""),
    }  # fmt: skip


def children(send: SandboxSend, kind: str):
    return SandboxSend.objects.filter(
        platform=PLATFORM, account=send.account, kind=kind, body__parent=send.remote_id
    ).order_by("pk")


def has_content(send: SandboxSend) -> bool:
    return any(c.get("html") or c.get("plain_text") for c in _contents(send))


def _rank(send: SandboxSend, email: str) -> float:
    digest = hashlib.blake2b(f"{send.remote_id}:{email}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _child(send: SandboxSend, kind: str, combination: dict, emails: list[str], at) -> None:
    SandboxSend.objects.create(
        platform=PLATFORM,
        account=send.account,
        kind=kind,
        remote_id=secrets.token_hex(5),
        name=send.name,
        status="sent",
        body={
            "parent": send.remote_id,
            "combination_id": combination["id"],
            "settings": version(send, combination),
            "emails": emails,
        },  # fmt: skip
        recipients=len(emails),
        sends=1,
        sent_at=at,
    )


def send_test(send: SandboxSend, members) -> None:
    """Freeze the audience and send the test share, dealt across the combinations."""
    emails = sorted(members.values_list("identifier", flat=True)) if members is not None else []
    size = (send.body.get("variate_settings") or {}).get("test_size", 100)
    ranked = sorted(emails, key=lambda e: (_rank(send, e), e))
    tested = ranked[: round(len(ranked) * size / 100)]
    combos = combinations(send)
    now = timezone.now()
    for index, combination in enumerate(combos):
        _child(send, TEST, combination, sorted(tested[index :: len(combos)]), now)
    rest = sorted(set(emails) - set(tested))
    send.status, send.recipients, send.sends, send.sent_at = "sending", len(emails), 1, now
    send.body = {**send.body, "_rest": rest}
    send.save()


def _score(account, test: SandboxSend, criterion: str, at) -> float:
    t = engagement.totals(f"mailchimp:{account}:{test.remote_id}", test.body["emails"],
                          test.body["settings"]["subject_line"], test.sent_at, at)  # fmt: skip
    if not t["delivered"]:
        return 0.0
    return (t["opened"] if criterion == "opens" else t["clicked"]) / t["delivered"]


def settle(send: SandboxSend) -> None:
    """After the wait, pick the winner by the criterion and send it to the rest (once)."""
    if send.body.get("type") != "variate" or send.status != "sending" or send.sent_at is None:
        return
    settings = send.body.get("variate_settings") or {}
    decided_at = send.sent_at + timedelta(minutes=settings.get("wait_time", 60))
    if timezone.now() < decided_at or settings.get("winner_criteria") not in ("opens", "clicks"):
        return
    tests = list(children(send, TEST))
    if not tests or children(send, WINNER).exists():
        return
    scores = [_score(send.account, t, settings["winner_criteria"], decided_at) for t in tests]
    best = tests[scores.index(max(scores))]  # the first of equals
    combination = next(c for c in combinations(send) if c["id"] == best.body["combination_id"])
    _child(send, WINNER, combination, list(send.body.get("_rest", [])), decided_at)
    send.status = "sent"
    send.save(update_fields=["status"])


def view(send: SandboxSend) -> dict:
    """The campaign's `variate_settings` as Mailchimp shows them."""
    settle(send)
    winner = children(send, WINNER).first()
    settings = {k: v for k, v in (send.body.get("variate_settings") or {}).items()}
    return {
        **settings,
        "contents": [c.get("content_label", "") for c in _contents(send)],
        "combinations": combinations(send),
        "winning_combination_id": winner.body["combination_id"] if winner else "",
        "winning_campaign_id": winner.remote_id if winner else "",
    }


def parts(send: SandboxSend) -> list[SandboxSend]:
    """What went out, in order: each combination's test send, then the winner's."""
    settle(send)
    return [*children(send, TEST), *children(send, WINNER)]


def deliveries(send: SandboxSend) -> list[str]:
    """Every message the campaign delivered, as the recipients' emails (one per message)."""
    return [email for part in parts(send) for email in part.body["emails"]]
