"""The split: stable per reader, balanced, independent across tests, stratified by platform."""

from __future__ import annotations

import pytest

from campaigns.experiments.split import (
    HOLDOUT,
    REST,
    SplitPlan,
    group_counts,
    group_for,
    position,
    too_small,
)

PLAN = SplitPlan(variants=("A", "B"), test_share=0.2, holdout_share=0.05)


def test_a_reader_lands_in_the_same_group_every_time():
    first = [group_for(PLAN, "test-7", sid) for sid in range(5000)]
    again = [group_for(PLAN, "test-7", sid) for sid in range(5000)]
    assert first == again
    # ids given as strings (a platform id) hash the same way as their integer form
    assert [group_for(PLAN, "test-7", str(sid)) for sid in range(5000)] == first


def test_groups_are_balanced_within_one_point_at_two_hundred_thousand():
    n = 200_000
    counts = group_counts(PLAN, "balance", ((sid, "all") for sid in range(n)))["all"]
    assert sum(counts.values()) == n
    expected = {"A": 0.10, "B": 0.10, HOLDOUT: 0.05, REST: 0.75}
    for group, share in expected.items():
        assert abs(counts[group] / n - share) < 0.01, (group, counts[group] / n)


def test_five_variants_share_the_test_equally():
    plan = SplitPlan(variants=tuple("ABCDE"), test_share=0.5)
    n = 100_000
    counts = group_counts(plan, "five", ((sid, "all") for sid in range(n)))["all"]
    assert set(counts) == {"A", "B", "C", "D", "E", REST}
    for variant in "ABCDE":
        assert abs(counts[variant] / n - 0.10) < 0.01
    assert counts[HOLDOUT] == 0


def test_different_tests_split_the_same_readers_independently():
    # Being in A of one test says nothing about the next test: about half of A's readers
    # are in A again (two variants, whole audience tested).
    plan = SplitPlan(variants=("A", "B"), test_share=1.0)
    in_a = [sid for sid in range(20_000) if group_for(plan, "first", sid) == "A"]
    again = sum(group_for(plan, "second", sid) == "A" for sid in in_a)
    assert abs(again / len(in_a) - 0.5) < 0.03


def test_positions_are_uniform_in_the_unit_interval():
    values = [position("uniform", sid) for sid in range(50_000)]
    assert all(0 <= v < 1 for v in values)
    deciles = [0] * 10
    for v in values:
        deciles[int(v * 10)] += 1
    assert all(abs(d / len(values) - 0.1) < 0.01 for d in deciles)


def test_every_platform_gets_its_own_balanced_groups():
    readers = [(sid, "klaviyo" if sid % 3 else "iterable") for sid in range(90_000)]
    counts = group_counts(PLAN, "strata", readers)
    assert set(counts) == {"klaviyo", "iterable"}
    for stratum, by_group in counts.items():
        total = sum(by_group.values())
        assert total == (60_000 if stratum == "klaviyo" else 30_000)
        assert abs(by_group["A"] / total - 0.10) < 0.01
        assert abs(by_group["B"] / total - 0.10) < 0.01


def test_a_split_too_small_for_the_minimum_sample_says_where_and_why():
    problems = too_small(PLAN, {"klaviyo": 100_000, "iterable": 4_000}, min_sample=1000)
    assert problems == [
        "iterable: 4,000 readers give about 400 per variant at a 20% test share; "
        "the minimum sample is 1,000."
    ]
    assert too_small(PLAN, {"klaviyo": 100_000}, min_sample=1000) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variants": ("A",), "test_share": 0.2}, "2 to 5 variants"),
        ({"variants": tuple("ABCDEF"), "test_share": 0.2}, "2 to 5 variants"),
        ({"variants": ("A", "A"), "test_share": 0.2}, "must differ"),
        ({"variants": ("A", "B"), "test_share": 0}, "test share"),
        ({"variants": ("A", "B"), "test_share": 0.8, "holdout_share": 0.3}, "exceed 100"),
    ],
)
def test_an_impossible_plan_is_refused_with_the_reason(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SplitPlan(**kwargs)
