"""Run the GoPro Cloud emulator by hand: `python -m sandbox.gopro --port 8080 --videos 200`."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from sandbox.gopro.faults import Faults
from sandbox.gopro.library import generate_library
from sandbox.gopro.server import GoProEmulator


def size_range(text: str) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in text.split(":", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX in bytes, got {text!r}") from None
    if not 0 <= low <= high:
        raise argparse.ArgumentTypeError(f"expected 0 <= MIN <= MAX, got {text!r}")
    return low, high


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m sandbox.gopro",
        description="A GoPro Cloud emulator on 127.0.0.1, for tests, demos and benchmarks.",
    )
    parse.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parse.add_argument("--videos", type=int, default=50, help="ready videos in the library")
    parse.add_argument("--seed", type=int, default=1, help="the same seed, the same library")
    parse.add_argument(
        "--sizes",
        type=size_range,
        default=(50_000, 5_000_000),
        metavar="MIN:MAX",
        help="video sizes in bytes",
    )
    parse.add_argument(
        "--error-rate", type=float, default=0.0, help="share of requests answered 503"
    )
    parse.add_argument("--drop-after", type=int, help="drop each file response after N bytes")
    parse.add_argument("--throughput", type=float, help="cap each file response, in MB/s")
    parse.add_argument("--url-ttl", type=float, default=3600.0, help="signed URL lifetime, s")
    return parse


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.videos < 0 or not 0 <= args.port <= 65535 or not 0 <= args.error_rate <= 1:
        print("error: --videos must be >= 0, --port 0-65535, --error-rate 0-1", file=sys.stderr)
        return 2
    faults = Faults(
        server_error_rate=args.error_rate,
        drop_after_bytes=args.drop_after,
        throughput_bytes_per_second=args.throughput * 1e6 if args.throughput else None,
        url_ttl_seconds=args.url_ttl,
    )
    library = generate_library(args.seed, args.videos, args.sizes)
    try:
        emulator = GoProEmulator(library, faults=faults, port=args.port)
    except OSError as error:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with emulator:
        print(f"GoPro Cloud emulator at {emulator.base_url} with {len(library)} items")
        print(f"  session token  gp_access_token={emulator.session_token}")
        print(f"                 gp_user_id={emulator.user_id}")
        print(f"  OAuth          client_id={emulator.client_id}")
        print(f"                 client_secret={emulator.client_secret}")
        print(f"                 refresh_token={emulator.refresh_token}")
        print("Ctrl-C stops it.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
