"""The promise as a stateful model: Hypothesis drives the real discovery and transfer use
cases over the tracker and the store (the in-memory fakes, which the port contract suite
holds to what DynamoDB and S3 do) through listings, transfers, pauses, crashes at any
outside call or mid-stream, lease expiry, renamed and re-dated videos, provider faults, a
second worker cutting in, and the source changing (new bytes, length and ETag) at any
point, a pause and its resume or the middle of a stream included, and checks after every
step:

- a media id owns at most one object per file (chapter) in the store, ever;
- a COMPLETED record's objects each hold exactly the bytes of one version of the source's
  file, never a mix of two, and the record never changes;
- no record is IN_PROGRESS without a lease, and every FAILED record says why;

and at the end, that a quiet night afterwards archives every video.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.errors import TransientSourceError
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from domain.transfer import DEFAULT_LEASE, TransferPorts, transfer_video
from tests.crashes import Deadline, Killed, Plan, fragile
from tests.fakes import FakeVideo, InMemoryObjectStore, World, content_for, make_item

PART = 64
VIDEOS = {
    # media id: (size, chapters)
    "single": (50, ()),
    "parts": (300, ()),
    "chaptered": (230, (100, 70, 60)),
}
NAMES = ["GX010001.MP4", "GX010002.MP4", "Holiday.mp4", "GX010001.MP4"]
MONTHS = [datetime(2024, 5, 17, tzinfo=UTC), datetime(2023, 12, 31, 23, tzinfo=UTC), None]


class SyncModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World(store=InMemoryObjectStore(part_size=PART))
        for media_id, (size, chapters) in VIDEOS.items():
            item = make_item(media_id, NAMES[0], size, MONTHS[0])
            data = content_for(media_id, size)
            self.world.source.add(FakeVideo(item, data, chapters=chapters))
        self.archived: dict[str, object] = {}
        """What each COMPLETED record said when first seen (it must never change)."""
        self.workers = 0
        self.versions: dict[str, list[list[bytes]]] = {
            media_id: [[file.data for file in video.files()]]
            for media_id, video in self.world.source.videos.items()
        }
        """Each video's files, in every version the source has served."""

    # What happens --------------------------------------------------------------------------

    def _ports(self, plan: Plan, deadline: Deadline) -> TransferPorts:
        return fragile(self.world.ports(), plan, deadline)

    def _worker(self) -> str:
        self.workers += 1
        return f"w{self.workers}"

    @initialize()
    def first_listing(self) -> None:
        self.list_library()

    @rule()
    def list_library(self) -> None:
        discover("gopro", self.world.source, self.world.tracker, self.world.clock,
                 SelectionPolicy(), metrics=self.world.metrics)  # fmt: skip

    @rule(
        media_id=st.sampled_from(sorted(VIDEOS)),
        budget=st.sampled_from([None, PART, 2 * PART + 5]),
        kill_call=st.none() | st.integers(min_value=0, max_value=20),
        after=st.booleans(),
        kill_mid_stream=st.none() | st.integers(min_value=1, max_value=350),
        same_worker=st.booleans(),
    )
    def transfer(
        self,
        media_id: str,
        budget: int | None,
        kill_call: int | None,
        after: bool,
        kill_mid_stream: int | None,
        same_worker: bool,
    ) -> None:
        """One invocation: it may pause, die at a call or mid-stream, or run through."""
        worker = f"w{self.workers}" if same_worker and self.workers else self._worker()
        plan = Plan(at=kill_call, after=after)
        deadline = Deadline(budget, kill_at=kill_mid_stream)
        try:
            outcome = transfer_video(
                media_id, worker, self._ports(plan, deadline), should_pause=deadline
            )
        except Killed:
            event("transfer: killed")
        else:
            event(f"transfer: {outcome.result.value}")

    @rule(
        media_id=st.sampled_from(sorted(VIDEOS)),
        at=st.integers(min_value=0, max_value=20),
        expire_first=st.booleans(),
    )
    def second_worker_cuts_in(self, media_id: str, at: int, expire_first: bool) -> None:
        """While one worker is at its `at`-th outside call, another runs a whole attempt
        (after the first one's lease ran out, or while it is still held)."""
        first, second = self._worker(), self._worker()

        def meanwhile() -> None:
            if expire_first:
                self.world.clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
            transfer_video(media_id, second, self.world.ports())

        plan = Plan(at=at, meanwhile=meanwhile)
        transfer_video(media_id, first, self._ports(plan, Deadline(None)))

    def _change_source(self, media_id: str, grow: int) -> None:
        """GoPro reprocesses the video: other bytes, `grow` more of them (in its last
        file), a new ETag."""
        source = self.world.source
        video = source.videos[media_id]
        version = len(self.versions[media_id])
        data = content_for(f"{media_id}~v{version}", len(video.data) + grow)
        chapters = (*video.chapters[:-1], video.chapters[-1] + grow) if video.chapters else ()
        changed = FakeVideo(video.item, data, chapters=chapters)
        source.videos[media_id] = changed
        self.versions[media_id].append([file.data for file in changed.files()])

    @rule(media_id=st.sampled_from(sorted(VIDEOS)), grow=st.integers(min_value=0, max_value=9))
    def the_source_changes(self, media_id: str, grow: int) -> None:
        """Between two invocations: after a pause, before a takeover, at any time."""
        self._change_source(media_id, grow)

    @rule(
        media_id=st.sampled_from(sorted(VIDEOS)),
        read=st.integers(min_value=1, max_value=300),
        budget=st.sampled_from([None, PART]),
        grow=st.integers(min_value=0, max_value=9),
    )
    def the_source_changes_mid_stream(
        self, media_id: str, read: int, budget: int | None, grow: int
    ) -> None:
        """While an invocation streams the video, after it read `read` bytes."""
        deadline = Deadline(
            budget, meanwhile_at=read, meanwhile=lambda: self._change_source(media_id, grow)
        )
        outcome = transfer_video(
            media_id, self._worker(), self._ports(Plan(), deadline), should_pause=deadline
        )
        event(f"changed mid-stream: {outcome.result.value}")

    @rule()
    def leases_expire(self) -> None:
        self.world.clock.advance(DEFAULT_LEASE + timedelta(seconds=1))

    @rule(minutes=st.integers(min_value=1, max_value=30))
    def time_passes(self, minutes: int) -> None:
        self.world.clock.advance(timedelta(minutes=minutes))

    @rule(
        media_id=st.sampled_from(sorted(VIDEOS)),
        name=st.sampled_from(NAMES),
        captured=st.sampled_from(MONTHS),
    )
    def provider_changes_metadata(
        self, media_id: str, name: str, captured: datetime | None
    ) -> None:
        """GoPro renames or re-dates a video (the next listing shows it)."""
        source = self.world.source
        video = source.videos[media_id]
        video.item = replace(video.item, filename=name, captured_at=captured)
        source.listing = [video.item if i.media_id == media_id else i for i in source.listing]

    @rule(media_id=st.sampled_from(sorted(VIDEOS)), times=st.integers(min_value=1, max_value=2))
    def provider_fails(self, media_id: str, times: int) -> None:
        video = self.world.source.videos[media_id]
        video.error, video.error_times = TransientSourceError("GoPro answered 503"), times

    # What always holds ---------------------------------------------------------------------

    @invariant()
    def one_object_per_file(self) -> None:
        owners = Counter(stored.owner for stored in self.world.store.objects.values())
        for media_id, (_, chapters) in VIDEOS.items():
            assert owners[media_id] <= max(1, len(chapters)), (media_id, owners)

    @invariant()
    def completed_is_one_version_of_the_source_and_never_changes(self) -> None:
        for media_id, record in self.world.tracker.records.items():
            if record.status is not SyncStatus.COMPLETED:
                assert media_id not in self.archived, "a COMPLETED record left COMPLETED"
                continue
            versions = self.versions[media_id]
            assert len(record.object_keys) == len(versions[0])
            for number, key in enumerate(record.object_keys):
                held = self.world.store.objects[key].data
                assert any(held == files[number] for files in versions), (media_id, number)
            kept = (record.object_keys, record.stored_size, record.checksum, record.chapters)
            assert self.archived.setdefault(media_id, kept) == kept

    @invariant()
    def in_progress_is_leased_and_failed_says_why(self) -> None:
        for record in self.world.tracker.records.values():
            if record.status is SyncStatus.IN_PROGRESS:
                assert record.lease is not None
            if record.status is SyncStatus.FAILED:
                assert record.error

    def teardown(self) -> None:
        """A quiet night afterwards, once every lease ran out, archives every video."""
        world = self.world
        for video in world.source.videos.values():
            video.error_times = 0
        world.clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
        discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy(),
                 metrics=world.metrics)  # fmt: skip
        for media_id in VIDEOS:
            transfer_video(media_id, self._worker(), world.ports())
        self.one_object_per_file()
        self.completed_is_one_version_of_the_source_and_never_changes()
        assert {r.status for r in world.tracker.records.values()} == {SyncStatus.COMPLETED}
        assert set(world.tracker.records) == set(VIDEOS)
        assert world.store.open_uploads() == [] or all(
            key.startswith("gopro-videos/") for key in world.store.open_uploads()
        )


SyncModel.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_the_sync_keeps_its_promise = SyncModel.TestCase
