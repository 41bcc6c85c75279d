"""The browse page's view of the archive: items from catalog rows, filters, pages, totals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import CatalogRow
from domain.restore import RestorePrices, Tier
from entrypoints.browse.library import (
    Filter,
    Library,
    PageError,
    archive_growth,
    items_of,
    months,
    page_of,
    totals,
)

START = datetime(2024, 1, 1, tzinfo=UTC)
PRICES = RestorePrices(
    per_gb={("DEEP_ARCHIVE", Tier.BULK): 0.0025, ("DEEP_ARCHIVE", Tier.STANDARD): 0.02,
            ("GLACIER", Tier.BULK): 0.0, ("GLACIER", Tier.STANDARD): 0.01},
    per_1000_requests={("DEEP_ARCHIVE", Tier.BULK): 0.025, ("DEEP_ARCHIVE", Tier.STANDARD): 0.1,
                       ("GLACIER", Tier.BULK): 0.025, ("GLACIER", Tier.STANDARD): 0.05},
    standard_gb_month=0.023, transfer_out_gb=0.09, retrieval_gb={},
)  # fmt: skip


def row(n: int, chapter: int | None = None, **extra: object) -> CatalogRow:
    taken = START + timedelta(days=n)
    found = CatalogRow(
        media_id=f"m{n}", chapter=chapter,
        key=f"gopro-videos/{taken:%Y/%m}/GX01{n:04d}_{chapter}.MP4",
        size_bytes=2**30, checksum_algorithm="CRC32", checksum="AAAAAA==",
        filename=f"GX01{n:04d}.MP4", captured_at=taken, uploaded_at=taken,
        camera_model="HERO12 Black",
        duration_seconds=60.0 + n, media_type="Video", archived_at=taken,
    )  # fmt: skip
    return replace(found, **extra)  # type: ignore[arg-type]


def test_chapters_make_one_item_and_items_come_newest_first() -> None:
    rows = [row(1), row(3, 2), row(3, 1), row(2)]
    items = items_of(rows)
    assert [i.media_id for i in items] == ["m3", "m2", "m1"]
    assert [r.chapter for r in items[0].objects] == [1, 2]
    assert items[0].size_bytes == 2 * 2**30


def test_filters_combine_and_name_takes_a_part_or_a_glob() -> None:
    library = Library(items_of([row(n) for n in range(40)] + [row(50, camera_model="Max")]))
    assert len(library.select(Filter.from_query({"camera": "Max"}))) == 1
    chosen = Filter.from_query({"since": "2024-01-11", "until": "2024-01-20", "min_seconds": "75"})
    assert [i.media_id for i in library.select(chosen)] == [f"m{n}" for n in range(19, 14, -1)]
    assert len(library.select(Filter.from_query({"name": "gx010003"}))) == 1
    assert len(library.select(Filter.from_query({"name": "GX01000?.MP4"}))) == 10
    assert Filter.from_query(chosen.as_query()) == chosen


@pytest.mark.parametrize(
    ("query", "named"),
    [({"since": "yesterday"}, "since"), ({"max_seconds": "-1"}, "max_seconds"),
     ({"min_seconds": "nan"}, "min_seconds"),
     ({"since": "2024-02-01", "until": "2024-01-01"}, "since")],
)  # fmt: skip
def test_a_bad_filter_names_its_field(query: dict[str, str], named: str) -> None:
    with pytest.raises(PageError, match=named):
        Filter.from_query(query)


@given(st.integers(0, 300), st.integers(-5, 20))
def test_pages_cover_every_item_once_and_a_page_number_is_clamped(count: int, number: int) -> None:
    items = items_of([row(n) for n in range(count)])
    shown, pages = page_of(items, number, size=60)
    assert pages == max(1, -(-count // 60))
    every = [i for p in range(1, pages + 1) for i in page_of(items, p, size=60)[0]]
    assert every == items
    assert len(shown) <= 60


def test_months_keep_the_order_and_totals_price_only_what_is_archived() -> None:
    items = items_of([row(n) for n in (1, 2, 40)])
    assert [(m, len(i)) for m, i in months(items)] == [("2024-02", 1), ("2024-01", 2)]
    classes = {items[0].objects[0].key: "DEEP_ARCHIVE", items[1].objects[0].key: "STANDARD"}
    found = totals(items, classes, PRICES)
    assert (found.count, found.size_bytes) == (3, 3 * 2**30)
    assert found.restore_usd[Tier.BULK] == pytest.approx(0.0025 + 0.025 / 1000)
    assert found.hours == {Tier.BULK: 48, Tier.STANDARD: 12}


def test_the_archive_grows_by_the_month_each_item_was_archived() -> None:
    items = items_of([row(1), row(2), row(40), row(5, archived_at=None)])
    assert archive_growth(items) == [("2024-01", 2, 2 * 2**30), ("2024-02", 3, 3 * 2**30)]
