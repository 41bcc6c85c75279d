"""After a run: what its files' origin checks say of the provider's ETags.

GoPro's ETag being an MD5 of the origin file is reported, not documented. So that a change
on its side cannot fail a whole library night after night, a run in which several files
were refused for an origin mismatch and not one matched judges the ETags not to be content
hashes (EtagVerdicts), with one alert; from then on a mismatch is recorded `unavailable`,
and a later match trusts them again.
"""

from __future__ import annotations

from domain.model import SyncRecord
from domain.origin import ETAG_DISTRUST_AFTER, OriginStatus
from domain.ports import EtagVerdicts, Notifier
from domain.status import SyncStatus

MISMATCH_ERROR = "OriginMismatchError"
"""How a record failed by an origin mismatch begins its error (`<type>: <message>`)."""


def origin_matched(record: SyncRecord) -> bool:
    """Archived, and every file's bytes gave the source's ETag."""
    if record.status is not SyncStatus.COMPLETED:
        return False
    checks = [c.origin for c in record.chapters] if record.chapters else [record.origin]
    prefix = OriginStatus.MATCHED.value
    return bool(checks) and all(check is not None and check.startswith(prefix) for check in checks)


def origin_refused(record: SyncRecord) -> bool:
    """Its last attempt failed because the bytes did not give the source's ETag."""
    return record.status is SyncStatus.FAILED and (record.error or "").startswith(MISMATCH_ERROR)


def review_etags(
    provider: str,
    matched: int,
    mismatched: int,
    verdicts: EtagVerdicts,
    notifier: Notifier,
    *,
    after: int = ETAG_DISTRUST_AFTER,
) -> str | None:
    """After a run: when `after` or more of its files were refused for an origin mismatch
    and not one matched, the provider's ETags are judged not to be content hashes (one
    alert, and from then on a mismatch is recorded `unavailable`, not failed); a match
    while they are distrusted trusts them again. Answers what was decided, if anything."""
    distrusted = verdicts.distrusted(provider)
    if distrusted is None and mismatched >= after and matched == 0:
        why = f"{mismatched} mismatches and no match in one run"
        verdicts.judge(provider, why)
        notifier.alert(
            f"cloud-sync: {provider}'s ETags no longer describe the bytes it serves",
            f"Tonight {mismatched} {provider} files were refused because their bytes did not "
            f"give the ETag {provider}'s CDN sent, and not one matched. That is {provider} "
            "changing what its ETag means, not {mismatched} damaged files: from the next run "
            "on such a file is archived and recorded 'origin: unavailable' (its size and "
            "CRC32 are still checked), and the refused ones are archived then. A later match "
            "restores the check.".replace("{mismatched}", str(mismatched)),
        )
        return f"distrusted: {why}"
    if distrusted is not None and matched > 0:
        verdicts.judge(provider, None)
        return f"trusted again: {matched} files matched"
    return None
