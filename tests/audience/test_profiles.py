"""The one rule for profiles coming in: the conflict policy, and an opt-out always wins."""

import pytest

from audience.models import Subscriber, SubscriberStatus
from audience.profiles import ConflictPolicy, merge_profile
from audience.suppression import is_suppressed, suppress, suppressed_among, suppression_hash

INCOMING = {"first_name": "Ada", "last_name": "Byron", "attributes": {"plan": "pro", "tier": ""}}


def reader(**fields):
    return Subscriber(email="ada@example.com", first_name="", last_name="Lovelace", **fields)


def test_platform_wins_replaces_values_and_keeps_blanks_out():
    sub = reader(attributes={"plan": "free", "tier": "gold"})
    changed = merge_profile(sub, INCOMING, ConflictPolicy.PLATFORM_WINS, is_new=False)
    assert (sub.first_name, sub.last_name) == ("Ada", "Byron")
    assert sub.attributes == {"plan": "pro", "tier": "gold"}
    assert changed == ["first_name", "last_name", "attributes"]


def test_fill_blanks_only_fills_what_is_empty():
    sub = reader(attributes={"plan": "free"})
    merge_profile(
        sub,
        {**INCOMING, "attributes": {"plan": "pro", "city": "London"}},
        "fill_blanks",
        is_new=False,
    )
    assert (sub.first_name, sub.last_name) == ("Ada", "Lovelace")
    assert sub.attributes == {"plan": "free", "city": "London"}


def test_sharpsend_wins_leaves_an_existing_reader_alone_but_a_new_one_takes_everything():
    sub = reader()
    assert merge_profile(sub, INCOMING, ConflictPolicy.SHARPSEND_WINS, is_new=False) == []
    new = Subscriber(email="new@example.com")
    merge_profile(new, INCOMING, ConflictPolicy.SHARPSEND_WINS, is_new=True)
    assert (new.first_name, new.attributes) == ("Ada", {"plan": "pro"})


@pytest.mark.parametrize("policy", ConflictPolicy.values)
@pytest.mark.parametrize("held", ["unsubscribed", "bounced", "cleaned", "complained"])
def test_nothing_incoming_re_subscribes_an_opted_out_reader(policy, held):
    sub = reader(status=held)
    merge_profile(sub, {"status": SubscriberStatus.SUBSCRIBED}, policy, is_new=False)
    assert sub.status == held


@pytest.mark.parametrize("policy", ConflictPolicy.values)
def test_an_opt_out_from_the_platform_always_applies(policy):
    sub = reader(status=SubscriberStatus.SUBSCRIBED)
    assert "status" in merge_profile(sub, {"status": "unsubscribed"}, policy, is_new=False)
    assert sub.status == "unsubscribed"


@pytest.mark.django_db
def test_suppression_keeps_a_keyed_hash_only_and_matches_any_spelling():
    entry = suppress(" Ada@Example.com ")
    assert "ada" not in entry.email_hash and len(entry.email_hash) == 64
    assert suppress("ada@example.com").pk == entry.pk
    assert is_suppressed("ADA@example.com") and not is_suppressed("bob@example.com")
    assert suppressed_among(["Ada@example.com", "bob@example.com"]) == {"ada@example.com"}
    assert suppression_hash("a@example.com") != suppression_hash("b@example.com")
