"""``python -m bench.records``: set up the database, S3 and Redis, run every row, print the
report (the bench is described in :mod:`bench.records`)."""

import asyncio
import json
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import uvloop
from joserfc.jwk import KeySet
from redis.asyncio import Redis

from bench.records.database import (
    Fixture,
    database_url,
    drop_database,
    recreate_database,
    seed,
)
from bench.records.options import Options, parse_options
from bench.records.report import report
from bench.records.runs import Bench
from bench.records.servers import baseline_spec, product_spec
from db.migrate import upgrade_async
from devtools.embedded import EmbeddedStack
from devtools.embedded.s3 import EmbeddedS3
from services.auth.keys import TokenKeys, generate_signing_key, public_part
from services.auth.tokens import TokenService
from services.settings import load_settings
from services.storage import ensure_bucket, s3_client

BUCKET = "medappt-bench-records"


async def run(options: Options) -> Bench:
    url = database_url(options.admin_url, options.database)
    await recreate_database(options.admin_url, options.database)
    try:
        await upgrade_async(url)
        fixture = await seed(url)
        with tempfile.TemporaryDirectory(prefix="medappt-bench-records-") as tmp:
            data_dir = Path(tmp)
            s3 = EmbeddedS3(data_dir / "moto")
            await asyncio.to_thread(s3.start)
            redis = Redis.from_url(options.redis_url)
            try:
                return await _run(
                    options, url, fixture, data_dir=data_dir, s3_url=s3.url, redis=redis
                )
            finally:
                await redis.flushdb()
                await redis.aclose()
                await asyncio.to_thread(s3.stop)
    finally:
        if not options.keep_database:
            await drop_database(options.admin_url, options.database)


async def _run(
    options: Options, url: str, fixture: Fixture, *, data_dir: Path, s3_url: str, redis: Redis
) -> Bench:
    environment = {
        "DATABASE_URL": url,
        "REDIS_URL": options.redis_url,
        "S3_ENDPOINT_URL": s3_url,
        "S3_BUCKET": BUCKET,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "MEDAPPT_ENV": "dev",
        "MEDAPPT_DATA_DIR": str(data_dir),
        # The load comes from one address at rates no client may reach.
        "MEDAPPT_RATE_LIMITS": "off",
    }
    async with s3_client(load_settings(environment)) as s3:
        await ensure_bucket(s3, BUCKET)
    signing = generate_signing_key()
    tokens = TokenService(
        TokenKeys(signing=signing, verification=KeySet([public_part(signing)])),
        "medappt",
        "medappt-api",
    )
    env = {**os.environ, **environment}
    env["MEDAPPT_JWT_PRIVATE_KEY"] = json.dumps(signing.as_dict(private=True))
    for name in ("MEDAPPT_JWT_PUBLIC_KEYS", "MEDAPPT_JWT_ISSUER", "MEDAPPT_JWT_AUDIENCE"):
        env.pop(name, None)
    bench = Bench(options, fixture, url, env, tokens, data_dir, redis)
    product = product_spec()
    baselines = [baseline_spec(variant) for variant in options.baselines]
    for spec in [product, *baselines, *(product_spec(v) for v in options.products)]:
        print(f"{spec.label}: {spec.description}", file=sys.stderr)
        await bench.measure(spec)
    if options.cold:
        for spec in (product, baselines[0]):
            await bench.measure(spec, cold=True)
    for shape in options.shapes:
        await bench.measure(
            product, shape=shape, duration_s=options.shape_duration_s, series="shapes"
        )
    if options.profile_dir is not None:
        for spec in (product, baselines[0]):
            await bench.profile(spec, options.profile_dir)
    return bench


async def _cancellable(options: Options) -> Bench:
    """:func:`run`, cancelled by SIGTERM or SIGINT (ignored in background jobs otherwise),
    so servers are stopped and the database dropped however the bench is ended."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    return await run(options)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options(argv)
    with ExitStack() as stack:
        if options.embedded is not None:
            servers = stack.enter_context(
                EmbeddedStack(options.embedded, postgres=True, redis=True, s3=False, durable=True)
            )
            assert servers.database_url is not None
            assert servers.redis_url is not None
            admin_url = servers.database_url.replace("postgresql+asyncpg://", "postgresql://")
            options = replace(options, admin_url=admin_url, redis_url=servers.redis_url)
        try:
            bench = uvloop.run(_cancellable(options))
        except asyncio.CancelledError:
            sys.exit("bench.records: interrupted (servers stopped, database dropped)")
    print(report(bench))


if __name__ == "__main__":
    main()
