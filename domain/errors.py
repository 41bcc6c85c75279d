"""Domain errors. Each carries a message that says what was wrong and, where useful, what to do."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the sync rules raise.

    `retryable` says whether a later attempt may succeed without anyone acting.
    """

    retryable = False


class MalformedMediaError(DomainError):
    """A media item from a provider lacks a required field or has a value of the wrong shape."""

    def __init__(self, field: str, reason: str, media_id: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.media_id = media_id
        where = f"media item {media_id!r}" if media_id else "media item"
        super().__init__(f"{where}: field {field!r} {reason}")


class InvalidSettingError(DomainError):
    """A rule was configured with a value it cannot work with."""

    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(f"setting {setting!r} {reason}")


class IllegalTransitionError(DomainError):
    """A status change that the transition table does not allow."""

    def __init__(self, media_id: str, current: str, target: str, why: str = "") -> None:
        self.media_id = media_id
        self.current = current
        self.target = target
        detail = f": {why}" if why else ""
        super().__init__(f"media {media_id!r}: cannot move from {current} to {target}{detail}")


class AlreadyCompletedError(IllegalTransitionError):
    """The video is archived already; COMPLETED accepts no further change."""

    def __init__(self, media_id: str, target: str) -> None:
        super().__init__(media_id, "COMPLETED", target, "the video is archived already")


class LeaseHeldError(IllegalTransitionError):
    """Another worker holds an unexpired lease on the video."""

    def __init__(self, media_id: str, holder: str, until: str) -> None:
        self.holder = holder
        super().__init__(
            media_id, "IN_PROGRESS", "IN_PROGRESS", f"leased by {holder!r} until {until}"
        )


class NotLeaseHolderError(IllegalTransitionError):
    """A worker tried to finish a transfer whose lease it does not hold."""

    def __init__(self, media_id: str, current: str, target: str, worker: str) -> None:
        super().__init__(media_id, current, target, f"{worker!r} does not hold the lease")


class ConcurrentUpdateError(DomainError):
    """The stored record changed between read and write; the write was refused."""

    def __init__(self, media_id: str, expected_version: int | None) -> None:
        self.media_id = media_id
        self.expected_version = expected_version
        seen = "no record" if expected_version is None else f"version {expected_version}"
        super().__init__(
            f"media {media_id!r}: the sync record is no longer at {seen}; "
            "another worker changed it first"
        )


class UnknownMediaError(DomainError):
    """A transfer was asked for a video the tracker has never seen."""

    def __init__(self, media_id: str) -> None:
        self.media_id = media_id
        super().__init__(
            f"media {media_id!r} has no sync record; run discovery before transferring it"
        )


class VerificationFailedError(DomainError):
    """The bytes did not add up (R3.4); the store committed nothing from this attempt."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"verification failed: {reason}")


class OriginMismatchError(VerificationFailedError):
    """The bytes the source served do not give the source's own ETag (an MD5 of the origin
    file): they are not what the source holds, and nothing was stored."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"origin: {detail}")


class ObjectMismatchError(DomainError):
    """An object this video stored earlier does not match it; it is kept for a person to judge."""

    def __init__(self, key: str, media_id: str, detail: str) -> None:
        self.key = key
        super().__init__(
            f"media {media_id!r}: the object at {key!r} was stored for this video earlier "
            f"but {detail}; it was not overwritten: inspect it, delete it if it is damaged, "
            "and the next run stores the video again"
        )


class KeyTakenError(DomainError):
    """An object already exists at the key; nothing was written over it."""

    def __init__(self, key: str, owner_media_id: str | None) -> None:
        self.key = key
        self.owner_media_id = owner_media_id
        owner = f"media {owner_media_id!r}" if owner_media_id else "an unknown owner"
        super().__init__(f"object key {key!r} is taken by {owner}")


class NoFreeKeyError(DomainError):
    """Every candidate key for a video is taken by other videos."""

    def __init__(self, media_id: str, keys: tuple[str, ...]) -> None:
        self.media_id = media_id
        self.keys = keys
        super().__init__(f"media {media_id!r}: every candidate key is taken: {', '.join(keys)}")


class CredentialsMissingError(DomainError):
    """No credentials are stored for the provider."""

    def __init__(self, provider: str, where: str) -> None:
        super().__init__(
            f"no credentials stored for provider {provider!r} in {where}; "
            "store them before running a sync"
        )


class CredentialsRejectedError(DomainError):
    """The provider refused the credentials; retrying cannot help, a person must act."""

    def __init__(self, provider: str, remedy: str) -> None:
        self.provider = provider
        self.remedy = remedy
        super().__init__(f"{provider} rejected the stored credentials: {remedy}")


class TransientSourceError(DomainError):
    """A fault on the provider's side that a later attempt may not meet again."""

    retryable = True


class SourceChangedError(TransientSourceError):
    """The source now serves another version of the file (its ETag, Last-Modified or
    length changed) than the bytes already read came from: the file starts over."""

    def __init__(self, media_id: str, differences: list[str]) -> None:
        self.differences = differences
        super().__init__(
            f"the source of {media_id} changed while it was read ({'; '.join(differences)})"
        )


class StorageError(DomainError):
    """The object store or tracker failed in a way a later attempt may not meet again."""

    retryable = True


class UnreadableRecordError(StorageError):
    """A tracker record that cannot be read as one (an impossible date, a field of the
    wrong type): skipped and named wherever the tracker is read, never a stop for the rest."""

    retryable = False

    def __init__(self, media_id: str, reason: str) -> None:
        super().__init__(f"the tracker record of {media_id!r} cannot be read: {reason}")
        self.media_id = media_id
        self.reason = reason


class KeyLostError(StorageError):
    """The key a paused upload (or a paused check) was going to went to another video
    meanwhile: the file must start over at another key."""


class StorageAccessDeniedError(StorageError):
    """The object store refused the function's role: a person must grant the permission."""

    retryable = False


class UnexpectedTransferError(DomainError):
    """A transfer failed in a way no rule foresaw; recorded with its reason, not retried
    within the run (the next night tries again)."""

    retryable = False


class TransferRejectedError(DomainError):
    """The provider cannot serve the video (gone, forbidden, not downloadable)."""
