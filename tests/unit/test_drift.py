"""Judging the provider's changes: one alert for what is new, nothing for what is known,
a log line for what is harmless, and never a failure of the night's work."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.drift import Change, ChangeKind, report_changes
from tests.fakes import InMemoryChangeMemory, RecordingMetrics, RecordingNotifier

TYPE = Change(ChangeKind.UNKNOWN_TYPE, "type", "a type the contract lists", "'Hologram'", "m1")
ETAG = Change(ChangeKind.ETAG_FORM, "ETag", "an MD5", "another form (weak)")
FIELD = Change(ChangeKind.NEW_FIELD, "sparkle", "not named", "present")


def test_new_changes_alert_once_together_and_count() -> None:
    memory, alerts, metrics = InMemoryChangeMemory(), RecordingNotifier(), RecordingMetrics()
    outcome = report_changes("gopro", [TYPE, ETAG, FIELD, TYPE], memory, alerts, metrics)
    assert [c.kind for c in outcome.new] == [ChangeKind.UNKNOWN_TYPE, ChangeKind.ETAG_FORM]
    assert outcome.harmless == 1
    ((subject, message),) = alerts.alerts
    assert subject.startswith("GoPro changed: type; ETag")
    assert "unknown_type: type: expected a type the contract lists, got 'Hologram' (m1)" in message
    assert "sparkle" not in message
    assert metrics.changed == [("gopro", "unknown_type"), ("gopro", "etag_form")]
    # the next night: known, so nothing
    again = report_changes("gopro", [TYPE, ETAG], memory, alerts, metrics)
    assert (again.new, again.known) == ([], 2)
    assert len(alerts.alerts) == 1


def test_the_same_change_seen_elsewhere_is_the_same_change() -> None:
    elsewhere = Change(TYPE.kind, TYPE.subject, TYPE.expected, TYPE.came, "another item")
    assert elsewhere.identity == TYPE.identity
    assert Change(TYPE.kind, TYPE.subject, TYPE.expected, "'Other'").identity != TYPE.identity


def test_a_memory_that_fails_never_fails_the_night() -> None:
    memory, alerts = InMemoryChangeMemory(), RecordingNotifier()
    memory.refuse = True
    outcome = report_changes("gopro", [TYPE], memory, alerts, RecordingMetrics())
    assert outcome.new == []
    assert alerts.alerts == []


@given(st.lists(st.sampled_from([TYPE, ETAG, FIELD]), max_size=12), st.integers(1, 4))
def test_however_often_a_change_is_seen_it_alerts_once(seen: list[Change], nights: int) -> None:
    memory, alerts = InMemoryChangeMemory(), RecordingNotifier()
    for _ in range(nights):
        report_changes("gopro", seen, memory, alerts, RecordingMetrics())
    alerted = "\n".join(message for _, message in alerts.alerts)
    for change in {c for c in seen if not c.harmless}:
        assert alerted.count(change.line()) == 1
    assert len(alerts.alerts) == (1 if any(not c.harmless for c in seen) else 0)
