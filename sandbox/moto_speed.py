"""moto at a library's scale: three shims for the sandbox's speed and size.

- Routing: moto's server (as of the version sandbox.lambda_dispatch names) finds the
  service of every request under one lock, listing its own package directory (an
  `os.listdir` and an `isdir` per service) and matching the host against every service's
  URL patterns. The shim remembers each host's answer: it depends on the host alone.
- JSONPath: moto's Step Functions interpreter builds a new JSONPath parser (a PLY grammar)
  for every path it evaluates, a tenth of a video's time in the Map. The shim keeps each
  parsed path (a parsed path is not changed by being evaluated).
- Distributed Map: each of moto's Map workers takes its next item by calling itself, one
  Python frame per item, so a Map of more than about 5,000 items (1,000 a worker) ends in
  RecursionError. The shim takes the items in a loop, doing the same steps in the same
  order.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import moto
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    distributed_item_processor_worker as distributed,
)
from moto.stepfunctions.parser.asl.utils import json_path

from sandbox.lambda_dispatch import TESTED_MOTO, MotoChangedError

_ORIGINAL = DomainDispatcherApplication.get_backend_for_host
_MISSING = object()


def _cached(self: DomainDispatcherApplication, host: str | None) -> Any:
    cache: dict[str | None, Any] = self.__dict__.setdefault("_cloud_sync_hosts", {})
    found = cache.get(host, _MISSING)
    if found is _MISSING:
        found = cache[host] = _ORIGINAL(self, host)
    return found


def _eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
    """moto's DistributedItemProcessorWorker._eval_pool, as a loop."""
    while True:
        if job is None:
            self._env.delete_frame(worker_frame)
            return
        job_frame = worker_frame.open_inner_frame()
        self._eval_job(env=job_frame, job=job)
        worker_frame.delete_frame(job_frame)
        if isinstance(job.job_output, Exception) or self.stopped():
            self._env.delete_frame(worker_frame)
            self._job_pool.close_job(job)
            return
        next_job = self._job_pool.next_job()
        if next_job is None:
            self._env.delete_frame(worker_frame)
            self._job_pool.close_job(job)
            return
        self._job_pool.close_job(job)
        job = next_job


def install() -> None:
    """Remember each host's service and each parsed JSONPath, and let a Map take its items
    in a loop (idempotent)."""
    parameters = list(inspect.signature(_ORIGINAL).parameters)
    if moto.__version__ != TESTED_MOTO or parameters != ["self", "host"]:
        raise MotoChangedError(
            f"sandbox.moto_routing was written for moto {TESTED_MOTO}'s "
            f"get_backend_for_host(self, host); found moto {moto.__version__} taking "
            f"{parameters}"
        )
    DomainDispatcherApplication.get_backend_for_host = _cached  # type: ignore[method-assign]
    worker = distributed.DistributedItemProcessorWorker
    worker._eval_pool = _eval_pool  # type: ignore[method-assign]
    parse = getattr(json_path, "parse")  # noqa: B009 - moto does not export it
    if not hasattr(parse, "cache_info"):
        setattr(json_path, "parse", functools.lru_cache(maxsize=4096)(parse))  # noqa: B010
