"""Status transitions and the record's lease rules, as properties."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import (
    AlreadyCompletedError,
    IllegalTransitionError,
    LeaseHeldError,
    NotLeaseHolderError,
)
from domain.model import COUNT_HOLD, Checksum, MediaItem, StoredObject, SyncRecord, check_change
from domain.status import TRANSITIONS, SyncStatus, check_transition, is_legal, predecessors
from tests.fakes import EPOCH, make_item
from tests.strategies import ready_videos

STATES: list[SyncStatus | None] = [None, *SyncStatus]
LEASE = timedelta(minutes=20)


@given(st.sampled_from(STATES), st.sampled_from(list(SyncStatus)))
def test_check_transition_follows_the_table(current: SyncStatus | None, target: SyncStatus) -> None:
    if current is SyncStatus.COMPLETED:  # no worker moves an archived video anywhere
        with pytest.raises(AlreadyCompletedError):
            check_transition("m1", current, target)
    elif target in TRANSITIONS[current]:
        check_transition("m1", current, target)
        assert current in predecessors(target)
    else:
        with pytest.raises(IllegalTransitionError):
            check_transition("m1", current, target)
        assert current not in predecessors(target)


def test_completed_is_terminal_and_records_are_born_pending() -> None:
    assert TRANSITIONS[SyncStatus.COMPLETED] == frozenset({SyncStatus.COMPLETED})
    assert TRANSITIONS[None] == frozenset({SyncStatus.PENDING})
    assert is_legal(SyncStatus.FAILED, SyncStatus.IN_PROGRESS)
    assert not is_legal(SyncStatus.PENDING, SyncStatus.COMPLETED)
    with pytest.raises(AlreadyCompletedError, match="archived already"):
        check_transition("m1", SyncStatus.COMPLETED, SyncStatus.FAILED)


@dataclass(frozen=True)
class Op:
    kind: str
    worker: str
    minutes: int


ops = st.lists(
    st.builds(
        Op,
        st.sampled_from(["claim", "complete", "fail"]),
        st.sampled_from(["w1", "w2", "w3"]),
        st.integers(min_value=0, max_value=45),
    ),
    max_size=30,
)


def apply(record: SyncRecord, op: Op, now_offset: timedelta) -> SyncRecord:
    now = EPOCH + now_offset
    if op.kind == "claim":
        return record.claim(op.worker, now, LEASE)
    if op.kind == "complete":
        stored = StoredObject("gopro-videos/2026/01/x.MP4", 1, None, record.media_id)
        return record.complete(op.worker, now, stored)
    return record.fail(op.worker, now, "boom")


@given(ready_videos, ops)
def test_any_history_obeys_the_rules(item: MediaItem, history: list[Op]) -> None:
    # Given a record and any sequence of attempted changes by several workers over time
    record = SyncRecord.discovered(item, EPOCH)
    elapsed = timedelta(0)
    for op in history:
        elapsed += timedelta(minutes=op.minutes)
        before = record
        try:
            record = apply(record, op, elapsed)
        except IllegalTransitionError as error:
            # Then a refused change leaves the record as it was, and says why
            assert record == before
            if before.status is SyncStatus.COMPLETED:
                assert isinstance(error, AlreadyCompletedError)
            continue
        # Then every accepted change is legal, bumps the version by one, never loses retries
        assert is_legal(before.status, record.status)
        assert record.version == before.version + 1
        assert record.retry_count >= before.retry_count
        assert before.status is not SyncStatus.COMPLETED
        assert (record.lease is not None) == (record.status is SyncStatus.IN_PROGRESS)
        if record.status is SyncStatus.COMPLETED:
            assert record.object_key is not None
            assert record.error is None
        if record.status is SyncStatus.FAILED:
            assert record.error == "boom"


@given(ready_videos, st.integers(min_value=0, max_value=19 * 60 + 59))
def test_an_unexpired_lease_belongs_to_its_holder(item: MediaItem, seconds: int) -> None:
    record = SyncRecord.discovered(item, EPOCH).claim("w1", EPOCH, LEASE)
    later = EPOCH + timedelta(seconds=seconds)
    with pytest.raises(LeaseHeldError, match="w1"):
        record.claim("w2", later, LEASE)
    with pytest.raises(NotLeaseHolderError):
        record.fail("w2", later, "not mine")
    renewed = record.claim("w1", later, LEASE)
    assert renewed.retry_count == record.retry_count
    assert renewed.lease is not None
    assert renewed.lease.expires_at == later + LEASE


@given(ready_videos, st.integers(min_value=0, max_value=10**6))
def test_an_expired_lease_is_taken_over_as_a_retry(item: MediaItem, extra_seconds: int) -> None:
    record = SyncRecord.discovered(item, EPOCH).claim("w1", EPOCH, LEASE)
    later = EPOCH + LEASE + timedelta(seconds=extra_seconds)
    taken = record.claim("w2", later, LEASE)
    assert taken.lease is not None
    assert taken.lease.holder == "w2"
    assert taken.retry_count == record.retry_count + 1


@given(ready_videos, st.integers(min_value=1, max_value=6))
def test_each_retry_after_failure_counts(item: MediaItem, attempts: int) -> None:
    record = SyncRecord.discovered(item, EPOCH)
    for attempt in range(attempts):
        record = record.claim(f"w{attempt}", EPOCH, LEASE).fail(f"w{attempt}", EPOCH, "5xx")
    assert record.status is SyncStatus.FAILED
    assert record.retry_count == attempts - 1


def test_error_messages_are_cut_to_a_bounded_length() -> None:
    item = make_item("m1")
    failed = (
        SyncRecord.discovered(item, EPOCH).claim("w", EPOCH, LEASE).fail("w", EPOCH, "x" * 10_000)
    )
    assert failed.error is not None
    assert len(failed.error) == 2000


def completed_record() -> SyncRecord:
    claimed = SyncRecord.discovered(make_item("m1"), EPOCH).claim("w1", EPOCH, LEASE)
    stored = StoredObject("gopro-videos/2026/01/a.MP4", 100, Checksum("CRC32", "AAAAAA=="), "m1")
    return claimed.complete("w1", EPOCH, stored)


def test_a_completed_record_changes_only_to_record_its_count_once() -> None:
    done = completed_record()
    assert done.count_pending
    counted = done.counted(EPOCH + LEASE)
    check_change(done, counted)
    assert counted == replace(done, version=done.version + 1, updated_at=EPOCH + LEASE,
                              count_pending=False, count_claimed_until=None)  # fmt: skip
    with pytest.raises(IllegalTransitionError):
        counted.counted(EPOCH)
    for changed in (
        replace(counted, version=counted.version + 1, object_key="gopro-videos/other.MP4"),
        replace(counted, version=counted.version + 1),
        replace(done, version=done.version + 1, count_pending=False, stored_size=1),
        replace(done, version=done.version + 1, status=SyncStatus.FAILED),
    ):
        previous = counted if changed.version == counted.version + 1 else done
        with pytest.raises(IllegalTransitionError):
            check_change(previous, changed)


def test_a_pending_count_is_claimed_only_where_no_claim_holds() -> None:
    done = completed_record()
    assert done.count_claimed_until == EPOCH + COUNT_HOLD  # the completing worker holds it
    with pytest.raises(IllegalTransitionError, match="claimed until"):
        done.count_claimed(EPOCH + COUNT_HOLD - timedelta(seconds=1))
    later = EPOCH + COUNT_HOLD
    claimed = done.count_claimed(later)
    check_change(done, claimed)
    assert claimed.count_claimed_until == later + COUNT_HOLD
    check_change(claimed, claimed.counted(later))
    # A claim written over a claim that still holds, or one that runs backwards, is refused
    for forged in (
        replace(done, version=done.version + 1, updated_at=EPOCH, count_claimed_until=later),
        replace(done, version=done.version + 1, updated_at=later, count_claimed_until=later),
        replace(claimed, version=claimed.version + 1, object_key="gopro-videos/other.MP4"),
    ):
        previous = claimed if forged.version == claimed.version + 1 else done
        with pytest.raises(IllegalTransitionError):
            check_change(previous, forged)
    with pytest.raises(IllegalTransitionError):
        claimed.counted(later).count_claimed(later + COUNT_HOLD)
