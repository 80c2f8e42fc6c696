"""The process's S3 client keeps S3's endpoints of botocore's data, not every service's."""

import os
import uuid

import botocore
from botocore.loaders import JSONFileLoader

from services.settings import Settings
from services.storage import S3EndpointsFileLoader, ensure_bucket, s3_client

ENDPOINTS = os.path.join(os.path.dirname(botocore.__file__), "data", "endpoints")


def test_the_endpoints_file_keeps_every_partition_with_s3_alone() -> None:
    full = JSONFileLoader().load_file(ENDPOINTS)
    kept = S3EndpointsFileLoader().load_file(ENDPOINTS)

    assert len(full["partitions"][0]["services"]) > 300
    assert [p["partition"] for p in kept["partitions"]] == [
        p["partition"] for p in full["partitions"]
    ]
    for partition, whole in zip(kept["partitions"], full["partitions"], strict=True):
        assert partition["services"] == {
            name: endpoints for name, endpoints in whole["services"].items() if name == "s3"
        }
        assert {k: v for k, v in partition.items() if k != "services"} == {
            k: v for k, v in whole.items() if k != "services"
        }


def test_other_files_load_whole() -> None:
    retry = os.path.join(os.path.dirname(ENDPOINTS), "_retry")

    assert S3EndpointsFileLoader().load_file(retry) == JSONFileLoader().load_file(retry)


async def test_the_client_stores_and_reads_an_object(settings: Settings) -> None:
    key = f"tests/storage-client/{uuid.uuid4()}"
    async with s3_client(settings) as s3:
        assert s3.meta.region_name == settings.aws_region
        await ensure_bucket(s3, settings.s3_bucket)
        await s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=b"%PDF-1.7 one page")
        try:
            got = await s3.get_object(Bucket=settings.s3_bucket, Key=key)
            async with got["Body"] as body:
                assert await body.read() == b"%PDF-1.7 one page"
        finally:
            await s3.delete_object(Bucket=settings.s3_bucket, Key=key)
