"""The sandbox's speed shims (sandbox.moto_speed) answer as moto's own code does."""

from __future__ import annotations

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.stepfunctions.parser.asl.utils import json_path

from sandbox import moto_speed


@pytest.mark.parametrize(
    "host",
    [
        "s3.eu-central-1.amazonaws.com",
        "dynamodb.eu-central-1.amazonaws.com",
        "states.eu-central-1.amazonaws.com",
        "lambda.eu-central-1.amazonaws.com",
        "moto_api",
        "127.0.0.1:5000",
        None,
    ],
)
def test_routing_remembers_each_hosts_answer_and_it_is_moto_s_own(host: str | None) -> None:
    moto_speed.install()
    app = DomainDispatcherApplication(create_backend_app)
    # moto's own answer, then the remembered one twice: the same each time
    expected = moto_speed._ORIGINAL(app, host)
    assert app.get_backend_for_host(host) == expected
    assert app.get_backend_for_host(host) == expected


def test_a_parsed_jsonpath_is_kept_and_finds_the_same_values() -> None:
    moto_speed.install()
    moto_speed.install()  # idempotent: one cache, not a cache of a cache
    data = {"listing": {"bucket": "b", "key": "k"}, "items": [1, 2, 3]}
    assert json_path.extract_json("$.listing.key", data) == "k"
    assert json_path.extract_json("$.listing.key", {"listing": {"key": "other"}}) == "other"
    assert json_path.extract_json("$.items[1]", data) == 2
    parse = getattr(json_path, "parse")  # noqa: B009 - moto does not export it
    assert parse.cache_info().hits >= 1
    assert not hasattr(parse.__wrapped__, "cache_info")
