"""The composition root: every adapter, built once per cold start from the settings.

Tests override any provider with a fake (`container.tracker.override(...)`); nothing here
runs at import time: clients are made when first asked for, once, even when several
threads ask at the same moment (every singleton is thread-safe, and the GoPro client, a
resource, is only reached through one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import boto3
import httpx
from dependency_injector import containers, providers

from adapters.aws.catalog_store import S3CatalogStore, S3EtagVerdicts
from adapters.aws.dynamodb_tracker import DynamoDbSyncTracker, TrackerSettings
from adapters.aws.metrics import CloudWatchApiMetrics, EmfMetrics
from adapters.aws.notifier import SnsNotifier
from adapters.aws.run_manifest import S3RunManifest
from adapters.aws.runs import StepFunctionsRuns
from adapters.aws.s3_store import MIB, S3ObjectStore, S3Settings, s3_client
from adapters.aws.secrets_store import SecretsManagerCredentialStore
from adapters.clock import SystemClock
from adapters.gopro.settings import GoProSettings, make_client
from adapters.logs import LogRedactor
from domain.credentials import Credentials, OAuthCredentials
from domain.origin import OriginPolicy
from domain.ports import MediaSource, Metrics
from domain.rules import SelectionPolicy
from domain.transfer import TransferPorts
from entrypoints.providers import ProviderRegistry, gopro_adapters
from entrypoints.settings import Settings


def _metrics(settings: Settings, session: boto3.session.Session) -> Metrics:
    if settings.metrics == "api":
        return CloudWatchApiMetrics(session.client("cloudwatch"))
    return EmfMetrics()


def _gopro_settings(settings: Settings) -> GoProSettings:
    return GoProSettings(
        base_url=settings.gopro_api_url,
        allow_loopback=settings.gopro_allow_loopback,
        retry_wait=settings.gopro_retry_wait_seconds,
    )


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
    policy = providers.ThreadSafeSingleton(
        lambda s: SelectionPolicy.from_lists(s.media_types, s.ready_states), settings
    )
    gopro_settings = providers.ThreadSafeSingleton(_gopro_settings, settings)
    gopro_client = providers.Resource(_gopro_client, gopro_settings)
    registry = providers.ThreadSafeSingleton(
        lambda client, gopro: ProviderRegistry({"gopro": gopro_adapters(client, gopro)}),
        gopro_client,
        gopro_settings,
    )


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


def media_source(container: Container, provider: str) -> MediaSource:
    adapters = container.registry()[provider]
    return adapters.source(load_credentials(container, provider))


def transfer_ports(container: Container, provider: str) -> TransferPorts:
    """The ports one transfer needs, with the provider's source opened on stored credentials."""
    source = media_source(container, provider)
    return TransferPorts(
        source,
        container.tracker(),
        container.store(),
        container.metrics(),
        container.notifier(),
        container.clock(),
        container.verdicts(),
    )


def origin_policy(settings: Settings) -> OriginPolicy:
    return OriginPolicy(settings.origin_check, settings.origin_part_sizes_tried)
