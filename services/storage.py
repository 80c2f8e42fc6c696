"""S3 document storage through aiobotocore."""

import os
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from botocore.loaders import JSONFileLoader, create_loader

from services.settings import Settings

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client


class S3EndpointsFileLoader(JSONFileLoader):
    """botocore's file loader, keeping only S3's entries of its endpoints file.

    The session keeps that file parsed for the process's life: 7 MB of objects, every AWS
    service's endpoints, of which the client reads S3's (4 MB less resident memory).
    """

    def load_file(self, file_path: str) -> Any:
        data = super().load_file(file_path)
        if data is not None and os.path.basename(file_path) == "endpoints":
            for partition in data["partitions"]:
                partition["services"] = {
                    name: endpoints
                    for name, endpoints in partition["services"].items()
                    if name == "s3"
                }
        return data


def s3_client(settings: Settings) -> "AbstractAsyncContextManager[S3Client]":
    """A client for the whole process: it pools its HTTP connections."""
    session = get_session()
    loader = create_loader(session.get_config_variable("data_path"))
    loader.file_loader = S3EndpointsFileLoader()
    session.register_component("data_loader", loader)
    return session.create_client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key,
        config=AioConfig(
            signature_version="s3v4",
            # Path-style addressing works with S3-compatible servers on any host name.
            s3={"addressing_style": "path"},
            max_pool_connections=50,
            # MEDAPPT_S3_TIMEOUT_S: for each attempt's connect and each read.
            connect_timeout=settings.s3_timeout_s,
            read_timeout=settings.s3_timeout_s,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


async def ensure_bucket(client: "S3Client", bucket: str) -> None:
    try:
        await client.head_bucket(Bucket=bucket)
    except ClientError:
        await client.create_bucket(Bucket=bucket)
