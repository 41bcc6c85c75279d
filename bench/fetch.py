"""`cloudsync restore fetch` against what a user would run instead: `rclone copy` of the
same objects out of the same S3 endpoint.

The archive is `rclone serve s3` over TLS (a throw-away certificate, as bench.transfer),
holding `--objects` videos of `--mib` MiB each under `gopro-videos/`; the selection comes
from a catalog file (`--catalog PATH`), so no tracker is needed. Measured, each in its own
process (wall time, CPU time and peak RSS by wait4, imports included):
- **ours**: `cloudsync restore fetch --to DIR --catalog PATH`: a HeadObject per object,
  then each object downloaded, its CRC32 computed on the way and compared with the
  catalog's before the file takes its name (fsynced);
- **rclone**: `rclone copy :s3:bucket/gopro-videos DIR` with rclone's defaults (4
  transfers at once, no fsync).
Then **ours again** over the same folder, which must download nothing. Every fetched file
is compared byte for byte with the archived one.

Run: `python -m bench.fetch [--objects 8] [--mib 128] [--repeat 2]`; figures are medians.
The last line is `key=value` pairs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import shutil
import statistics
import sys
from pathlib import Path

from bench.common import ChildRun, run_child
from bench.transfer import Bench, bench_world, rclone, write_source
from bench.transfer_roles import BUCKET, MIB
from domain.catalog import CatalogRow, render
from entrypoints.restore import file_checksum

PREFIX = "gopro-videos/2024/05/"
UPLOADED = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def make_archive(bench: Bench, objects: int, mib: int) -> Path:
    """The objects in the sink's folder, and a catalog of them; the catalog's path."""
    folder = bench.sink_dir / PREFIX
    folder.mkdir(parents=True, exist_ok=True)
    catalog = []
    for n in range(objects):
        media_id = f"bench{n:04d}"
        path = folder / f"GX01{n:04d}.MP4"
        write_source(path, media_id, mib * MIB)
        row = CatalogRow(
            media_id=media_id, chapter=None, key=PREFIX + path.name, size_bytes=mib * MIB,
            checksum_algorithm="CRC32", checksum=file_checksum(path).value, filename=path.name,
            captured_at=None, uploaded_at=UPLOADED, camera_model=None, duration_seconds=None,
            media_type="Video", archived_at=None,
        )  # fmt: skip
        catalog.append(row)
    written = bench.root / "catalog.csv"
    written.write_text(render(catalog), encoding="utf-8")
    return written


def ours(bench: Bench, catalog: Path, to: Path) -> ChildRun:
    cloudsync = str(Path(sys.executable).with_name("cloudsync"))
    return run_child(
        [cloudsync, "restore", "fetch", "--to", str(to), "--catalog", str(catalog),
         "--bucket", BUCKET, "--stack", "dev"],
        bench.env(),
    )  # fmt: skip


def theirs(bench: Bench, to: Path) -> ChildRun:
    return run_child([rclone(), "copy", f":s3:{BUCKET}/gopro-videos", str(to)], bench.env())


def same_files(bench: Bench, got: Path) -> int:
    archived = sorted((bench.sink_dir / PREFIX).iterdir())
    for source in archived:
        fetched = got / "2024" / "05" / source.name
        if not filecmp.cmp(source, fetched, shallow=False):
            raise SystemExit(f"{fetched} differs from the archived {source.name}")
    return len(archived)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=8)
    parser.add_argument("--mib", type=int, default=128, help="each object's size")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, for medians")
    args = parser.parse_args()
    if min(args.objects, args.mib, args.repeat) < 1:
        parser.error("--objects, --mib and --repeat must be positive")
    total = args.objects * args.mib * MIB
    runs: dict[str, list[ChildRun]] = {"ours": [], "rclone": [], "again": []}
    with bench_world() as bench:
        catalog = make_archive(bench, args.objects, args.mib)
        print(f"{args.objects} objects of {args.mib} MiB on {bench.sink_url} (rclone serve "
              f"s3, TLS); {args.repeat} run(s) of each", flush=True)  # fmt: skip
        for _ in range(args.repeat):
            for role in ("rclone", "ours"):
                to = bench.root / f"fetched-{role}"
                shutil.rmtree(to, ignore_errors=True)
                got = ours(bench, catalog, to) if role == "ours" else theirs(bench, to)
                runs[role].append(got)
                same_files(bench, to)
            again = ours(bench, catalog, bench.root / "fetched-ours")
            if "0 downloaded" not in again.output:
                raise SystemExit(f"a second fetch downloaded again:\n{again.output}")
            runs["again"].append(again)
    figures = {}
    print(f"\n{'what':<14} {'MB/s':>8} {'CPU-s/GiB':>10} {'peak RSS MB':>12} {'seconds':>8}")
    for role, measured in runs.items():
        seconds = statistics.median(r.seconds for r in measured)
        cpu = statistics.median(r.cpu_seconds for r in measured)
        rss = max(r.peak_rss_mb for r in measured)
        figures[role] = (total / seconds / 1e6, cpu / (total / (1 << 30)), rss, seconds)
        name = "ours, again" if role == "again" else role
        f = figures[role]
        print(f"{name:<14} {f[0]:>8.1f} {f[1]:>10.2f} {f[2]:>12.0f} {f[3]:>8.2f}")
    mine, other = figures["ours"], figures["rclone"]
    print(
        f"\nours {mine[0] / other[0]:.2f}x rclone's throughput, rclone's CPU per GiB "
        f"{other[1] / mine[1]:.2f}x ours; a second fetch {figures['again'][3]:.2f} s "
        "(verifies the local files, downloads nothing)"
    )
    print(
        f"ratio_vs_rclone={mine[0] / other[0]:.2f} mb_s={mine[0]:.1f} rclone_mb_s={other[0]:.1f} "
        f"cpu_s_per_gib={mine[1]:.2f} rclone_cpu_s_per_gib={other[1]:.2f} "
        f"peak_rss_mb={mine[2]:.0f} rclone_peak_rss_mb={other[2]:.0f} "
        f"again_seconds={figures['again'][3]:.2f}"
    )


if __name__ == "__main__":
    main()
