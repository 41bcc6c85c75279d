"""Restores that take time, as S3's do: a shim for the emulated AWS.

moto (as of the version sandbox.lambda_dispatch names) shows a restored object as ready
the moment RestoreObject is called, and answers a second RestoreObject during a restore
with 200 where S3 answers 409 RestoreAlreadyInProgress. `install()` makes RestoreObject
start a restore that stays in progress (`ongoing-request="true"`) for `delay` seconds
(moto's "time" state transition of the model `s3::keyrestore`), and refuses a restore of
an object whose restore is still in progress, with S3's code. `finish_restores()` makes
every restore in progress ready at its next look, as the hours passing would.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any

import moto
from moto.moto_api import state_manager
from moto.s3.exceptions import S3ClientError
from moto.s3.models import FakeKey, S3Backend

from sandbox.lambda_dispatch import TESTED_MOTO, MotoChangedError

MODEL = "s3::keyrestore"
IN_PROGRESS = "IN_PROGRESS"
_ORIGINAL_RESTORE = FakeKey.restore
_ORIGINAL_REQUEST = S3Backend.restore_object


class RestoreAlreadyInProgress(S3ClientError):
    """S3's answer (HTTP 409; moto's serialiser, which knows no such shape, sends 400)."""

    code = "RestoreAlreadyInProgress"
    message = "Object restore is already in progress"


def _restore(key: FakeKey, days: int) -> None:
    _ORIGINAL_RESTORE(key, days)
    key.status = IN_PROGRESS  # the setter: no transition
    key._time_progressed = datetime.now()  # the start of moto's timer


def _restore_object(
    backend: S3Backend, bucket_name: str, key_name: str, days: str | None, type_: str | None
) -> bool:
    key: Any = backend.get_object(bucket_name, key_name)
    if key is not None and key.expiry_date is not None and key.status == IN_PROGRESS:
        raise RestoreAlreadyInProgress()
    return bool(_ORIGINAL_REQUEST(backend, bucket_name, key_name, days, type_))


def _check() -> None:
    expected = {
        "restore": ["self", "days"],
        "restore_object": ["self", "bucket_name", "key_name", "days", "type_"],
    }
    found = {
        "restore": list(inspect.signature(_ORIGINAL_RESTORE).parameters),
        "restore_object": list(inspect.signature(_ORIGINAL_REQUEST).parameters),
    }
    if moto.__version__ != TESTED_MOTO or found != expected:
        raise MotoChangedError(
            f"sandbox.moto_restore was written for moto {TESTED_MOTO} taking {expected}; found "
            f"moto {moto.__version__} taking {found}. Check the shim against the new moto."
        )


def install(delay: float = 30.0) -> None:
    """Restores in progress for `delay` seconds; idempotent."""
    _check()
    key_class: Any = FakeKey
    backend_class: Any = S3Backend
    key_class.restore = _restore
    backend_class.restore_object = _restore_object
    state_manager.set_transition(MODEL, {"progression": "time", "seconds": delay})


def finish_restores() -> None:
    """Every restore in progress is ready at its next look."""
    state_manager.set_transition(MODEL, {"progression": "immediate"})
