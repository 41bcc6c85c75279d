"""What `cloudsync` exits with, in the manner of restic, and the errors that choose it.

    0    done: everything asked was done
    1    failed: a run failed, a discrepancy was found, an AWS or GoPro error, or a
         mistake in a setting (the message names it and the fix)
    2    usage: an unknown option, a bad value, a missing argument
    3    not finished yet: nothing failed, but some of it is still to come (a fetch or a
         status with restores still in progress; a run still running when not followed)
    130  interrupted (Ctrl-C)
    141  standard output was closed (`cloudsync … | head`), as a shell reports SIGPIPE

This module imports nothing heavy: `cloudsync --help` loads it.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    DONE = 0
    FAILED = 1
    USAGE = 2
    NOT_FINISHED = 3
    INTERRUPTED = 130
    CLOSED_PIPE = 141


class UserError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""

    exit_code = Exit.FAILED


class UsageError(UserError):
    """The command was asked something it cannot do as written (exit 2)."""

    exit_code = Exit.USAGE
