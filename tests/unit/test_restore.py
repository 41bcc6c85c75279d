"""The restore rules (domain.restore): selection, S3's restore status, the price, where a
fetched object lands, and when a local file is the archived one."""

from __future__ import annotations

import fnmatch
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.aws.archive import object_state
from domain.catalog import CatalogRow
from domain.keys import candidate_keys
from domain.model import Checksum, MediaItem
from domain.restore import (
    Local,
    LocalPathError,
    ObjectState,
    RestoreError,
    RestorePrices,
    Selection,
    State,
    Tier,
    capture_day,
    check_days,
    local_path,
    local_verdict,
    quote,
    select,
)
from domain.units import GB
from tests.strategies import instants, media_items

UPLOADED = datetime(2024, 6, 1, tzinfo=UTC)


def row(
    media_id: str = "m1",
    filename: str = "GX010001.MP4",
    captured: datetime | None = None,
    chapter: int | None = None,
    size: int | None = 1000,
    checksum: str | None = "AAAAAQ==",
) -> CatalogRow:
    when = captured or UPLOADED
    return CatalogRow(
        media_id=media_id, chapter=chapter,
        key=f"gopro-videos/{when:%Y}/{when:%m}/{filename}", size_bytes=size,
        checksum_algorithm="CRC32" if checksum else None, checksum=checksum,
        filename=filename, captured_at=captured, uploaded_at=UPLOADED, camera_model=None,
        duration_seconds=None, media_type="Video", archived_at=None,
    )  # fmt: skip


days = st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def selections(draw: st.DrawFn) -> Selection:
    ends = sorted(draw(st.lists(days, min_size=2, max_size=2)))
    return Selection(
        since=ends[0] if draw(st.booleans()) else None,
        until=ends[1] if draw(st.booleans()) else None,
        media_ids=draw(st.frozensets(st.sampled_from(["m1", "m2", "m3"]), max_size=2)),
        pattern=draw(
            st.one_of(st.none(), st.sampled_from(["*.mp4", "GX01*", "gh??????.MP4", "[A-G]*"]))
        ),
    )


catalogs = st.lists(
    st.builds(
        row,
        media_id=st.sampled_from(["m1", "m2", "m3", "m4"]),
        filename=st.sampled_from(["GX010001.MP4", "GH020002.mp4", "clip.mov", "Z.MP4"]),
        captured=st.one_of(st.none(), instants),
        chapter=st.one_of(st.none(), st.integers(1, 3)),
    ),
    max_size=12,
)


@given(catalogs, selections())
def test_a_selection_takes_exactly_the_rows_that_meet_every_criterion(
    catalog: list[CatalogRow], selection: Selection
) -> None:
    def meets(r: CatalogRow) -> bool:
        day = (r.captured_at or r.uploaded_at).astimezone(UTC).date()
        return (
            (selection.since is None or selection.since <= day)
            and (selection.until is None or day <= selection.until)
            and (not selection.media_ids or r.media_id in selection.media_ids)
            and (
                selection.pattern is None
                or fnmatch.fnmatchcase(r.filename.upper(), selection.pattern.upper())
            )
        )

    wanted = sorted((r for r in catalog if meets(r)), key=lambda r: r.key)
    if not wanted:
        with pytest.raises(RestoreError, match="nothing archived matches"):
            select(catalog, selection)
        return
    chosen = select(catalog, selection)
    assert sorted(chosen, key=lambda r: (r.key, r.media_id)) == sorted(
        wanted, key=lambda r: (r.key, r.media_id)
    )
    if selection.media_ids and not (selection.since or selection.until or selection.pattern):
        # a video is taken whole: every chapter of a selected media id
        assert {id(r) for r in chosen} == {
            id(r) for r in catalog if r.media_id in selection.media_ids
        }


def test_the_capture_day_is_utcs_and_both_ends_are_inclusive() -> None:
    late = datetime(2024, 3, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 04:30 UTC
    assert capture_day(row(captured=late)) == date(2024, 4, 1)
    assert capture_day(row(captured=None)) == UPLOADED.date()
    shot = [row("a", captured=datetime(2024, 4, 1, tzinfo=UTC)), row("b", captured=late)]
    assert len(select(shot, Selection(date(2024, 4, 1), date(2024, 4, 1)))) == 2
    with pytest.raises(RestoreError, match="captured 2024-04-02 to today"):
        select(shot, Selection(since=date(2024, 4, 2)))
    with pytest.raises(
        RestoreError, match=r"the selection starts on 2024-04-02, after it ends on 2024-04-01"
    ):
        Selection(date(2024, 4, 2), date(2024, 4, 1))


@pytest.mark.parametrize(
    ("storage_class", "header", "state", "expires"),
    [
        (None, None, State.READABLE, None),
        ("STANDARD", None, State.READABLE, None),
        ("GLACIER_IR", None, State.READABLE, None),
        ("DEEP_ARCHIVE", None, State.NOT_REQUESTED, None),
        ("DEEP_ARCHIVE", 'ongoing-request="true"', State.PENDING, None),
        (
            "DEEP_ARCHIVE",
            'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"',
            State.READY,
            datetime(2012, 12, 21, tzinfo=UTC),
        ),
        ("GLACIER", 'ongoing-request="false"', State.READY, None),
    ],
)
def test_s3s_restore_status_is_read(
    storage_class: str | None, header: str | None, state: State, expires: datetime | None
) -> None:
    found = object_state("k", storage_class, header)
    assert (found.state, found.expires_at) == (state, expires)
    assert found.can_read == (state in (State.READABLE, State.READY))


@pytest.mark.parametrize(
    "header", ["restored", 'ongoing-request="false", expiry-date="the twelfth of never"']
)
def test_a_restore_status_s3_would_not_send_is_refused_by_name(header: str) -> None:
    with pytest.raises(RestoreError, match="S3's restore"):
        object_state("gopro-videos/2024/01/a.MP4", "DEEP_ARCHIVE", header)


PRICES = RestorePrices(
    per_gb={
        ("DEEP_ARCHIVE", Tier.BULK): 0.0025, ("DEEP_ARCHIVE", Tier.STANDARD): 0.02,
        ("GLACIER", Tier.BULK): 0.0, ("GLACIER", Tier.STANDARD): 0.01,
    },
    per_1000_requests={
        ("DEEP_ARCHIVE", Tier.BULK): 0.025, ("DEEP_ARCHIVE", Tier.STANDARD): 0.10,
        ("GLACIER", Tier.BULK): 0.0, ("GLACIER", Tier.STANDARD): 0.05,
    },
    standard_gb_month=0.023,
    transfer_out_gb=0.09,
    retrieval_gb={"GLACIER_IR": 0.03},
)  # fmt: skip


def test_only_objects_that_need_a_restore_are_billed_for_one() -> None:
    gb = GB  # as AWS bills it: 2^30 bytes
    chosen = [row(f"m{i}", f"v{i}.MP4", size=gb * (i + 1)) for i in range(5)]
    states = [
        ObjectState(chosen[0].key, "DEEP_ARCHIVE", State.NOT_REQUESTED),
        ObjectState(chosen[1].key, "DEEP_ARCHIVE", State.NOT_REQUESTED),
        ObjectState(chosen[2].key, "DEEP_ARCHIVE", State.PENDING),
        ObjectState(chosen[3].key, "GLACIER_IR", State.READABLE),
        ObjectState(chosen[4].key, "-", State.MISSING),
    ]
    found = quote(chosen, states, Tier.STANDARD, days=10, prices=PRICES)
    assert (found.objects, found.to_restore, found.restore_bytes) == (5, 2, 3 * gb)
    assert found.restore_usd == pytest.approx(3 * 0.02 + 2 * 0.10 / 1000)
    assert found.copy_usd == pytest.approx(3 * 0.023 * 10 / 30)
    # every object that is there is downloaded; GLACIER_IR also bills its reads
    assert found.download_usd == pytest.approx((1 + 2 + 3 + 4) * 0.09 + 4 * 0.03)
    assert found.hours == 12
    assert quote(chosen, states, Tier.BULK, 10, PRICES).hours == 48
    nothing = quote(chosen[3:4], states[3:4], Tier.BULK, 10, PRICES)
    assert (nothing.hours, nothing.restore_usd, nothing.to_restore) == (None, 0.0, 0)


@pytest.mark.parametrize("bad", [0, -1, 30_001])
def test_days_out_of_s3s_range_are_refused(bad: int) -> None:
    with pytest.raises(RestoreError, match=f"a restored copy is kept 1 to 30000 days, not {bad}"):
        check_days(bad)


@given(media_items())
def test_every_key_the_archive_makes_lands_in_its_capture_month_folder(item: MediaItem) -> None:
    for key in candidate_keys(item):
        path = local_path(item.provider, key)
        year, month, name = path.parts
        assert key.endswith(f"/{year}/{month}/{name}")
        assert name not in ("", ".", "..")


@pytest.mark.parametrize(
    "key",
    [
        "gopro-videos/2024/01/../../../etc/passwd",
        "gopro-videos/../x",
        "gopro-videos//abs",
        "gopro-videos/2024/01/",
        "gopro-videos/2024/01/a\\..\\b",
        "gopro-videos/2024/01/nul\x00.MP4",
        "other/2024/01/a.MP4",
    ],
)
def test_a_key_that_could_leave_the_download_folder_is_refused(key: str) -> None:
    with pytest.raises(LocalPathError):
        local_path("gopro", key)


def test_a_local_file_is_the_archived_one_only_when_size_and_checksum_agree() -> None:
    recorded = row(size=4, checksum="AAAAAQ==")
    same, other = Checksum("CRC32", "AAAAAQ=="), Checksum("CRC32", "AAAAAg==")
    assert local_verdict(recorded, None, None) is Local.ABSENT
    assert local_verdict(recorded, 4, same) is Local.SAME
    assert local_verdict(recorded, 4, other) is Local.DIFFERS
    assert local_verdict(recorded, 5, same) is Local.DIFFERS
    # A checksum of another algorithm says nothing either way; nor does a missing one
    assert local_verdict(recorded, 4, Checksum("SHA256", "x")) is Local.SAME
    assert local_verdict(row(size=4, checksum=None), 4, other) is Local.SAME
