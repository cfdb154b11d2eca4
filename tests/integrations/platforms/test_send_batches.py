"""A batched send's progress (integrations/platforms/send_batches.py): what the ledger keeps
before and after each batch, and how a rerun reads it."""

from __future__ import annotations

from integrations.platforms.send_batches import (
    BatchProgress,
    chunks,
    recipients_in,
    recipients_value,
)


def test_a_batch_goes_in_flight_then_is_confirmed():
    progress = BatchProgress().attempting("5", 2)
    assert (progress.in_flight, progress.in_flight_count, progress.started) == ("5", 2, True)
    done = progress.confirmed()
    assert done == BatchProgress(done_through="5", sent=2, batches=1)


def test_a_batch_in_flight_is_given_up_as_lost():
    progress = BatchProgress(done_through="5", sent=2, batches=1).attempting("9", 3)
    assert progress.given_up() == BatchProgress(
        done_through="9", sent=2, batches=1, lost=3, lost_batches=1
    )
    assert "unknown outcome" in progress.given_up().summary()


def test_a_refused_batch_leaves_the_flight_without_moving_on():
    progress = BatchProgress(done_through="5", sent=2, batches=1)
    assert progress.attempting("9", 3).refused() == progress


def test_it_round_trips_through_the_ledgers_json():
    progress = BatchProgress(done_through="9", in_flight="12", in_flight_count=1, sent=4)
    assert BatchProgress.from_dict(progress.as_dict()) == progress
    assert BatchProgress.from_dict(None) == BatchProgress() == BatchProgress.from_dict({})
    assert not BatchProgress().started


def test_recipients_travel_as_one_value_of_the_plan():
    assert recipients_in({"recipients": recipients_value(["3", "5"])}) == ["3", "5"]
    assert recipients_in({}) == ["{recipients}"]
    assert [list(c) for c in chunks(["1", "2", "3"], 2)] == [["1", "2"], ["3"]]
