"""Media Lister (R1): list the library, record new videos as PENDING, return their ids.

The result carries ids only (about 20 bytes each: 10,000 videos fit Step Functions' 256 KB
payload limit); each video's metadata waits in the tracker for the downloader.
"""

from __future__ import annotations

from typing import Any

from domain.services import discover
from entrypoints.container import media_source
from entrypoints.handlers.runtime import LambdaContext, invocation


def handler(event: object, context: LambdaContext) -> dict[str, Any]:
    with invocation(event, context, "lister") as (container, _, provider):
        source = media_source(container, provider)
        outcome = discover(
            provider,
            source,
            container.tracker(),
            container.clock(),
            container.policy(),
            metrics=container.metrics(),
        )
        return {
            "provider": provider,
            "media_ids": list(outcome.media_ids),
            "listed": outcome.listed,
            "new_records": outcome.new_records,
            "skipped": {reason.value: count for reason, count in outcome.skipped.items()},
        }
