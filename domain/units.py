"""Units, each defined once.

AWS prices storage, retrieval and transfer per "GB", and its billing counts a GB as 2^30
bytes (the S3 pricing page's footnote: "GB-month … 1 GB = 2^30 bytes"; Lambda's GB-seconds
likewise count memory in binary units). Every price in entrypoints/prices.json is applied
to bytes through GB, here, so that no two modules disagree.
"""

from __future__ import annotations

MIB = 1 << 20
GB = 1 << 30
"""A GB as AWS bills it: 2^30 bytes."""

PART_SIZE = 50 * MIB
"""A multipart upload's part (a setting of the functions: PART_SIZE_MIB)."""
SINGLE_PUT_LIMIT = 100 * MIB
"""Files up to this size go in one PutObject; larger ones in parts (SINGLE_PUT_LIMIT_MIB)."""
