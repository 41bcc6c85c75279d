"""The composition root: every adapter, built once per cold start from the settings
(`Container`, the functions'), or once per command from the stack it names (`Operator`,
the command line's).

Tests override any provider with a fake (`container.tracker.override(...)`); nothing here
runs at import time: clients are made when first asked for, once, even when several
threads ask at the same moment (every singleton is thread-safe, and the GoPro client, a
resource, is only reached through one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from botocore.config import Config
from dependency_injector import containers, providers

from adapters.aws.alarms import CloudWatchAlarms
from adapters.aws.archive import S3Archive
from adapters.aws.catalog_store import S3CatalogReader, S3CatalogStore, S3EtagVerdicts
from adapters.aws.changes import S3ChangeMemory
from adapters.aws.deployment import describe as describe_deployment
from adapters.aws.drill_log import S3DrillLog, S3DrillReader
from adapters.aws.dynamodb_tracker import (
    DynamoDbSyncTracker,
    DynamoDbTrackerReader,
    TrackerSettings,
)
from adapters.aws.metrics import CloudWatchApiMetrics, CloudWatchTransferred, EmfMetrics
from adapters.aws.notifier import SnsNotifier
from adapters.aws.run_manifest import S3RunManifest
from adapters.aws.runs import StepFunctionsRunReports, StepFunctionsRuns
from adapters.aws.s3_store import S3ArchiveReader, S3ObjectStore, S3Settings, s3_client
from adapters.aws.secrets_store import SecretsManagerCredentialStore
from adapters.aws.thumbnails import S3ThumbnailReader, S3Thumbnails
from adapters.clock import SystemClock
from adapters.gopro.media import media_types_of
from adapters.gopro.settings import LOOPBACK_HOSTS, GoProSettings, gopro_url, make_client
from adapters.logs import LogRedactor
from domain.credentials import Credentials, OAuthCredentials
from domain.drift import report_changes
from domain.errors import InvalidSettingError
from domain.origin import OriginPolicy
from domain.ports import MediaSource, Metrics
from domain.rules import SelectionPolicy
from domain.selection import Selection
from domain.thumbnails import ThumbnailKeeper, ThumbnailTally
from domain.transfer import TransferPorts
from domain.units import MIB
from entrypoints.exits import UserError
from entrypoints.providers import ProviderRegistry, gopro_adapters
from entrypoints.settings import Settings

if TYPE_CHECKING:  # the functions' package has no stack module's imports (infra)
    from entrypoints.stack import Deployed, Target


def _metrics(settings: Settings, session: boto3.session.Session) -> Metrics:
    if settings.metrics == "api":
        return CloudWatchApiMetrics(session.client("cloudwatch"))
    return EmfMetrics()


def _gopro_settings(settings: Settings) -> GoProSettings:
    found = GoProSettings(
        base_url=settings.gopro_api_url,
        allow_loopback=settings.gopro_allow_loopback,
        retry_wait=settings.gopro_retry_wait_seconds,
    )
    if settings.gopro_thumbnail_url:
        found = dataclasses.replace(found, thumbnail_url=settings.gopro_thumbnail_url)
    return found


def selection(settings: Settings) -> Selection:
    """The stack's choice of what to archive; a bad one names its setting."""
    return Selection.parse(
        settings.capture_since, settings.capture_until, settings.media_kinds, settings.cameras
    )


def stack_policy(
    chosen: Selection, media_types: str | None = None, ready_states: str | None = None
) -> SelectionPolicy:
    """What the sync picks under the stack's selection: GoPro's types of its kinds (unless
    MEDIA_TYPES names them), its dates and cameras."""
    return SelectionPolicy.from_lists(
        media_types, ready_states, chosen, media_types_of(chosen.kinds)
    )


def _policy(settings: Settings) -> SelectionPolicy:
    return stack_policy(selection(settings), settings.media_types, settings.ready_states)


def _s3_settings(settings: Settings) -> S3Settings:
    return S3Settings(
        bucket=settings.bucket_name,
        kms_key_id=settings.kms_key_id,
        single_put_limit=settings.single_put_limit_mib * MIB,
        part_size=settings.part_size_mib * MIB,
    )


def _gopro_client(settings: GoProSettings) -> Iterator[httpx.Client]:
    with make_client(settings) as client:
        yield client


def _registry(client: httpx.Client, gopro: GoProSettings) -> ProviderRegistry:
    return ProviderRegistry({"gopro": gopro_adapters(client, gopro)})


def _bucket_files[T](
    kind: Callable[..., T],
    session: providers.Provider[boto3.session.Session],
    settings: providers.Provider[Settings],
) -> providers.ThreadSafeSingleton[T]:
    """An adapter of small files in the archive bucket (the run lists, the catalog, the
    ETag judgement): an S3 client, the bucket and the archive key."""
    return providers.ThreadSafeSingleton(
        kind,
        client=providers.ThreadSafeSingleton(s3_client, session),
        bucket=providers.ThreadSafeSingleton(lambda s: s.bucket_name, settings),
        kms_key_id=providers.ThreadSafeSingleton(lambda s: s.kms_key_id, settings),
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    session = providers.ThreadSafeSingleton(boto3.session.Session)
    clock = providers.ThreadSafeSingleton(SystemClock)

    tracker = providers.ThreadSafeSingleton(
        DynamoDbSyncTracker,
        client=providers.ThreadSafeSingleton(lambda s: s.client("dynamodb"), session),
        settings=providers.ThreadSafeSingleton(lambda s: TrackerSettings(s.table_name), settings),
    )
    store = providers.ThreadSafeSingleton(
        S3ObjectStore,
        client=providers.ThreadSafeSingleton(s3_client, session),
        settings=providers.ThreadSafeSingleton(_s3_settings, settings),
    )
    manifest = _bucket_files(S3RunManifest, session, settings)
    catalog = _bucket_files(S3CatalogStore, session, settings)
    verdicts = _bucket_files(S3EtagVerdicts, session, settings)
    runs = providers.ThreadSafeSingleton(
        StepFunctionsRuns,
        client=providers.ThreadSafeSingleton(lambda s: s.client("stepfunctions"), session),
    )
    credential_store = providers.ThreadSafeSingleton(
        SecretsManagerCredentialStore,
        client=providers.ThreadSafeSingleton(lambda s: s.client("secretsmanager"), session),
        template=providers.ThreadSafeSingleton(lambda s: s.credentials_secret, settings),
    )
    notifier = providers.ThreadSafeSingleton(
        SnsNotifier,
        client=providers.ThreadSafeSingleton(lambda s: s.client("sns"), session),
        topic_arn=providers.ThreadSafeSingleton(lambda s: s.alert_topic_arn, settings),
    )
    metrics = providers.ThreadSafeSingleton(_metrics, settings, session)
    policy = providers.ThreadSafeSingleton(_policy, settings)
    thumbnails = _bucket_files(S3Thumbnails, session, settings)
    changes = _bucket_files(S3ChangeMemory, session, settings)
    drills = _bucket_files(S3DrillLog, session, settings)
    drill_archive = providers.ThreadSafeSingleton(
        S3Archive,
        client=providers.ThreadSafeSingleton(s3_client, session),
        bucket=providers.ThreadSafeSingleton(lambda s: s.bucket_name, settings),
    )
    gopro_settings = providers.ThreadSafeSingleton(_gopro_settings, settings)
    gopro_client = providers.Resource(_gopro_client, gopro_settings)
    registry = providers.ThreadSafeSingleton(_registry, gopro_client, gopro_settings)


def lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.lease_seconds)


def load_credentials(container: Container, provider: str) -> Credentials:
    """The provider's stored credentials; their secret values are masked in every log line."""
    credentials = container.credential_store().load(provider)
    secrets = [credentials.access_token]
    if isinstance(credentials, OAuthCredentials):
        secrets += [credentials.client_secret, credentials.refresh_token]
    LogRedactor.register(secrets)
    return credentials


def media_source(
    container: Container, provider: str, credentials: Credentials | None = None
) -> MediaSource:
    """The provider's library, on `credentials` (by default, the stored ones)."""
    adapters = container.registry()[provider]
    return adapters.source(credentials or load_credentials(container, provider))


def transfer_ports(
    container: Container, provider: str, credentials: Credentials | None = None
) -> TransferPorts:
    """The ports one transfer needs, with the provider's source opened on `credentials`
    (by default, the stored ones)."""
    source = media_source(container, provider, credentials)
    return TransferPorts(
        source,
        container.tracker(),
        container.store(),
        container.metrics(),
        container.notifier(),
        container.clock(),
        container.verdicts(),
    )


def thumbnail_keeper(
    container: Container, provider: str, credentials: Credentials, budget: int
) -> ThumbnailKeeper | None:
    """What keeps the provider's thumbnails, `budget` tries at most (None: it serves none)."""
    previews = container.registry()[provider].previews
    if previews is None:
        return None
    return ThumbnailKeeper(
        previews(credentials),
        container.thumbnails(),
        container.tracker(),
        container.clock(),
        ThumbnailTally(budget),
    )


def report_source_changes(container: Container, provider: str, source: MediaSource) -> int:
    """Alert once for each way the provider answered unlike its contract not seen before
    (domain.drift); the number of new ones."""
    outcome = report_changes(
        provider, source.changes(), container.changes(), container.notifier(), container.metrics()
    )
    return len(outcome.new)


def origin_policy(settings: Settings) -> OriginPolicy:
    return OriginPolicy(settings.origin_check, settings.origin_part_sizes_tried)


def _operator_session(target: Target) -> boto3.session.Session:
    return boto3.session.Session(region_name=target.region)


def _deployed(session: boto3.session.Session) -> Callable[[Target], Deployed]:
    """How a target asks AWS what its stack deployed (once, when first needed)."""

    def ask(target: Target) -> Deployed:
        from entrypoints.stack import Deployed  # noqa: PLC0415 - the command line's only

        found = describe_deployment(
            session.client("lambda"), target.function_name, target.machine_name
        )
        return Deployed(
            bucket=found["ARCHIVE_BUCKET"],
            table=found["TRACKER_TABLE"],
            kms_key=found["ARCHIVE_KMS_KEY"],
            topic=found["ALERT_TOPIC_ARN"],
            secret_template=found["CREDENTIALS_SECRET"],
            gopro_api_url=found["GOPRO_API_URL"],
            state_machine=found["STATE_MACHINE"],
            function_arn=found["FUNCTION_ARN"],
        )

    return ask


def _archive_client(session: boto3.session.Session) -> Any:
    """S3 with SigV4 everywhere (pre-signed links to SSE-KMS objects need it) and a
    connection for each of the commands' workers."""
    config = Config(signature_version="s3v4", max_pool_connections=OPERATOR_WORKERS + 2)
    return session.client("s3", config=config)


def _operator_gopro_settings(target: Target) -> GoProSettings:
    url = target.gopro_url
    try:
        return GoProSettings(base_url=url, allow_loopback=gopro_url(url).host in LOOPBACK_HOSTS)
    except InvalidSettingError as error:
        raise UserError(
            f"the GoPro API URL {url!r} will not do: {error}; pass --gopro-url https://… or "
            "set GOPRO_API_URL"
        ) from None


OPERATOR_WORKERS = 16
"""HeadObjects (and restore requests) at once from the command line."""


class Operator(containers.DeclarativeContainer):
    """The command line's ports, from the same adapters as the functions': read-only
    where the operator only reads. `target` says which stack; its resources are asked of
    AWS only when a command needs one that no flag or variable named."""

    target: providers.Dependency[Target] = providers.Dependency()
    session = providers.ThreadSafeSingleton(_operator_session, target)
    clock = providers.ThreadSafeSingleton(SystemClock)
    resolved = providers.ThreadSafeSingleton(
        lambda t, s: dataclasses.replace(t, deployed=_deployed(s)), target, session
    )
    s3 = providers.ThreadSafeSingleton(_archive_client, session)
    tracker = providers.ThreadSafeSingleton(
        DynamoDbTrackerReader,
        client=providers.ThreadSafeSingleton(lambda s: s.client("dynamodb"), session),
        table=providers.ThreadSafeSingleton(lambda t: t.table_name, resolved),
    )
    bucket = providers.ThreadSafeSingleton(lambda t: t.bucket, resolved)
    archive = providers.ThreadSafeSingleton(S3Archive, client=s3, bucket=bucket)
    archive_reader = providers.ThreadSafeSingleton(S3ArchiveReader, client=s3, bucket=bucket)
    catalog = providers.ThreadSafeSingleton(S3CatalogReader, client=s3, bucket=bucket)
    thumbnails = providers.ThreadSafeSingleton(S3ThumbnailReader, client=s3, bucket=bucket)
    drills = providers.ThreadSafeSingleton(S3DrillReader, client=s3, bucket=bucket)
    stepfunctions = providers.ThreadSafeSingleton(lambda s: s.client("stepfunctions"), session)
    runs = providers.ThreadSafeSingleton(StepFunctionsRuns, client=stepfunctions)
    reports = providers.ThreadSafeSingleton(StepFunctionsRunReports, client=stepfunctions)
    cloudwatch = providers.ThreadSafeSingleton(lambda s: s.client("cloudwatch"), session)
    transferred = providers.ThreadSafeSingleton(CloudWatchTransferred, client=cloudwatch)
    alarms = providers.ThreadSafeSingleton(CloudWatchAlarms, client=cloudwatch)
    credential_store = providers.ThreadSafeSingleton(
        SecretsManagerCredentialStore,
        client=providers.ThreadSafeSingleton(lambda s: s.client("secretsmanager"), session),
        template=providers.ThreadSafeSingleton(lambda t: t.secret_template, resolved),
    )
    gopro_settings = providers.ThreadSafeSingleton(_operator_gopro_settings, resolved)
    gopro_client = providers.Resource(_gopro_client, gopro_settings)
    registry = providers.ThreadSafeSingleton(_registry, gopro_client, gopro_settings)
