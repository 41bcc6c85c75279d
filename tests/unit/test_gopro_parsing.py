"""The GoPro adapter's pure parts: page parsing, choosing the original, URL safety."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.gopro.download import choose_originals
from adapters.gopro.errors import GoProProtocolError, UnsafeUrlError, redact
from adapters.gopro.listing import parse_search_page
from adapters.gopro.urls import check_download_url
from adapters.logs import LogRedactor
from domain.errors import TransferRejectedError, TransientSourceError
from tests.strategies import json_values
from tests.unit.test_media import CONTRACT_EXAMPLE

media_entries = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            key: st.one_of(json_values, st.just(value)) for key, value in CONTRACT_EXAMPLE.items()
        },
    ),
)
pages = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "_pages": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {}, optional={"total_pages": json_values, "per_page": json_values}
                ),
            ),
            "_embedded": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "errors": st.one_of(st.just([]), json_values),
                        "media": st.one_of(st.lists(media_entries, max_size=5), json_values),
                    },
                ),
            ),
        },
    ),
)


@given(pages)
def test_any_json_page_gives_a_page_or_the_documented_error(body: Any) -> None:
    try:
        page = parse_search_page("gopro", body, 3)
    except GoProProtocolError as error:
        assert "listing page 3" in str(error)
    else:
        assert page.raw_count == len(page.items) + len(page.malformed)
        assert all(item.provider == "gopro" for item in page.items)


def test_a_contract_page_is_read() -> None:
    body = {
        "_pages": {"current_page": 1, "per_page": 100, "total_items": 2, "total_pages": 1},
        "_embedded": {"errors": [], "media": [CONTRACT_EXAMPLE, "junk"]},
    }
    page = parse_search_page("gopro", body, 1)
    assert [item.media_id for item in page.items] == ["62NzWRrpPXm7o"]
    assert (page.total_pages, page.per_page, page.raw_count) == (1, 100, 2)
    assert page.malformed == ("listing page 1, entry 1: not an object",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "not a JSON object"),
        ({}, "'_embedded' is missing"),
        ({"_embedded": {"media": {}}}, "'_embedded.media' is missing or not a list"),
        ({"_embedded": {"errors": ["boom"], "media": []}}, "_embedded.errors"),
        ({"_pages": [], "_embedded": {"media": []}}, "'_pages' is not an object"),
        ({"_pages": {"total_pages": "2"}, "_embedded": {"media": []}}, "total_pages"),
    ],
)
def test_malformed_pages_are_named(body: object, message: str) -> None:
    with pytest.raises(GoProProtocolError, match=message):
        parse_search_page("gopro", body, 1)


def variation(label: str, number: int = 1, host: str = "cdn.example.com") -> dict[str, object]:
    url = f"https://{host}/{label}/{number}?sig=secret"
    return {"label": label, "item_number": number, "url": url, "head": url + "&head"}


def answer(*variations: dict[str, object]) -> dict[str, object]:
    return {"_embedded": {"files": [variation("proxy-file")], "variations": list(variations)}}


def public(host: str) -> list[str]:
    return ["93.184.216.34"]


def test_the_source_is_chosen_over_proxies() -> None:
    body = answer(variation("high_res_proxy_mp4"), variation("source"))
    (original,) = choose_originals(body, "m1")
    assert "/source/" in original.url
    assert original.chapter == 1


def test_chaptered_media_gives_every_chapter_in_order_and_never_the_concat() -> None:
    chapters = [variation("source", n) for n in (3, 1, 2)]
    originals = choose_originals(answer(*chapters, variation("concat")), "m1")
    assert [o.chapter for o in originals] == [1, 2, 3]
    assert not any("/concat/" in o.url for o in originals)
    assert len(choose_originals(answer(*chapters), "m1")) == 3  # no concat: still archived


@given(st.permutations(range(1, 7)), st.sets(st.integers(1, 6)))
def test_chapter_numbers_come_from_item_number_or_the_url_path(
    order: list[int], unnumbered: set[int]
) -> None:
    entries = []
    for number in order:
        entry = variation("source", number)
        entry["url"] = f"https://cdn.example.com/v/source/default/{number}.mp4?sig=s"
        if number in unnumbered:
            del entry["item_number"]
        entries.append(entry)
    originals = choose_originals(answer(*entries), "m1")
    assert [o.chapter for o in originals] == list(range(1, 7))
    assert all(o.url.endswith(f"/{o.chapter}.mp4?sig=s") for o in originals)


def test_media_without_a_source_is_refused_naming_what_there_is() -> None:
    with pytest.raises(TransferRejectedError, match="high_res_proxy_mp4"):
        choose_originals(answer(variation("high_res_proxy_mp4")), "m1")
    with pytest.raises(GoProProtocolError, match="variations"):
        choose_originals({"_embedded": {}}, "m1")


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example.com/v.mp4?sig=s",
        "https://127.0.0.1/v.mp4",
        "https://10.1.2.3/v.mp4",
        "https://192.168.0.9/v.mp4",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/v.mp4",
        "https://[fe80::1]/v.mp4",
        "https://0.0.0.0/v.mp4",
        "ftp://cdn.example.com/v.mp4",
    ],
)
def test_unsafe_download_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrlError) as caught:
        check_download_url(url, allow_loopback=False, resolve=public)
    assert "sig=" not in str(caught.value)


def test_names_are_resolved_and_private_answers_refused() -> None:
    check_download_url("https://cdn.example.com/v.mp4", False, resolve=public)
    with pytest.raises(UnsafeUrlError, match=r"10\.0\.0\.5"):
        check_download_url("https://cdn.example.com/v.mp4", False, resolve=lambda h: ["10.0.0.5"])

    def unreachable(host: str) -> list[str]:
        raise OSError("no DNS")

    with pytest.raises(TransientSourceError, match="cannot resolve"):
        check_download_url("https://cdn.example.com/v.mp4", False, resolve=unreachable)


def test_loopback_http_passes_only_for_the_emulator() -> None:
    check_download_url("http://127.0.0.1:8080/files/x?sig=s", allow_loopback=True)
    with pytest.raises(UnsafeUrlError):
        check_download_url("http://127.0.0.1:8080/files/x?sig=s", allow_loopback=False)
    with pytest.raises(UnsafeUrlError):
        check_download_url("http://10.0.0.1/files/x", allow_loopback=True, resolve=public)


def test_redaction_drops_the_query_string() -> None:
    assert redact("https://cdn.example.com/a/b.mp4?Signature=abc&Key=xyz") == (
        "https://cdn.example.com/a/b.mp4"
    )


def test_redaction_drops_userinfo_in_urls_and_in_log_lines() -> None:
    assert redact("https://user:hunter2@cdn.example.com/v.mp4?sig=s") == (
        "https://cdn.example.com/v.mp4"
    )
    line = LogRedactor.scrub("GET https://user:hunter2@cdn.example.com/v.mp4 broke")
    assert "hunter2" not in line
    assert "cdn.example.com/v.mp4" in line


def test_a_photo_set_gives_every_photo_of_files_never_the_cover() -> None:
    photos = [
        {
            "item_number": n,
            "url": f"https://cdn.example/p{n}.jpg",
            "head": f"https://cdn.example/p{n}.jpg?h",
        }
        for n in (2, 3, 1)
    ]
    body = {"_embedded": {"files": photos, "variations": [variation("source")]}}
    originals = choose_originals(body, "set1", photo_set=True)
    assert [o.url for o in originals] == [f"https://cdn.example/p{n}.jpg" for n in (1, 2, 3)]
    with pytest.raises(GoProProtocolError, match="photos are numbered"):
        choose_originals({"_embedded": {"files": photos[:2]}}, "set1", photo_set=True)
    with pytest.raises(GoProProtocolError, match="photo set without"):
        choose_originals({"_embedded": {"variations": [variation("source")]}}, "s", photo_set=True)
