"""What a presigned document GET URL costs: botocore signing vs a reused link.

Run with ``python -m bench.signing``. Signs with the product's S3 client settings
(:func:`services.storage.s3_client`: SigV4, path-style) against an endpoint that is never
contacted: signing is local. Each figure is the median, over several repeats, of the mean
time per call in one repeat (timeit style, on uvloop); prints a Markdown table.

- ``generate_presigned_url`` cold: the bare aiobotocore call, a new key every call, with
  the ``ResponseContentDisposition`` parameter that ``DocumentLinks.read_url`` passes.
- ``DocumentLinks.read_url`` cold: a new key every call, so it signs (and caches).
- ``DocumentLinks.read_url`` warm: the same key and caller again, so the link is reused.
"""

import argparse
import itertools
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvloop

from services.documents import DocumentLinks, content_disposition
from services.settings import load_settings
from services.storage import s3_client

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

# Nothing listens there: presigning never opens a connection.
UNCONTACTED_ENDPOINT = "http://127.0.0.1:9"
BUCKET = "medappt-bench"
LIFETIME_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Measurement:
    operation: str
    median_us: float
    best_us: float
    calls: int


async def _measure(
    operation: str, call: Callable[[], Awaitable[object]], number: int, repeat: int
) -> Measurement:
    for _ in range(min(number, 100)):  # warm up
        await call()
    per_call: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            await call()
        per_call.append((time.perf_counter() - started) / number * 1e6)
    return Measurement(operation, statistics.median(per_call), min(per_call), number * repeat)


def _key(n: int) -> str:
    return f"patients/{uuid.UUID(int=7)}/{uuid.UUID(int=n)}/lab report {n}.pdf"


async def _run(s3: "S3Client", number: int, repeat: int) -> list[Measurement]:
    counter = itertools.count()
    caller = uuid.uuid4()

    async def presign_cold() -> str:
        n = next(counter)
        return await s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": BUCKET,
                "Key": _key(n),
                "ResponseContentDisposition": content_disposition(f"lab report {n}.pdf"),
            },
            ExpiresIn=LIFETIME_SECONDS,
        )

    # Big enough that the cold run never evicts: eviction is not what is measured.
    cold_links = DocumentLinks(s3, BUCKET, LIFETIME_SECONDS, max_entries=10_000_000)

    async def read_url_cold() -> str:
        n = next(counter)
        return await cold_links.read_url(_key(n), f"lab report {n}.pdf", caller)

    warm_links = DocumentLinks(s3, BUCKET, LIFETIME_SECONDS)
    warm_key = _key(1)

    async def read_url_warm() -> str:
        return await warm_links.read_url(warm_key, "lab report 1.pdf", caller)

    first = await read_url_warm()
    if await read_url_warm() != first:
        raise RuntimeError("DocumentLinks did not reuse the link")
    return [
        await _measure("generate_presigned_url (cold, new key)", presign_cold, number, repeat),
        await _measure("DocumentLinks.read_url (cold, new key)", read_url_cold, number, repeat),
        await _measure("DocumentLinks.read_url (warm, reused)", read_url_warm, number, repeat),
    ]


async def run(number: int, repeat: int) -> list[Measurement]:
    settings = load_settings(
        {
            "S3_ENDPOINT_URL": UNCONTACTED_ENDPOINT,
            "S3_BUCKET": BUCKET,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
        }
    )
    async with s3_client(settings) as s3:
        return await _run(s3, number, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=2000, help="calls per repeat")
    parser.add_argument("--repeat", type=int, default=7, help="repeats")
    args = parser.parse_args()

    results = uvloop.run(run(args.number, args.repeat))
    print(
        f"Presigned S3 GET URLs (SigV4, aiobotocore), {args.number} calls x {args.repeat} "
        f"repeats, uvloop\n"
    )
    print("| operation | median µs/call | best µs/call | calls/s (median) | 50 links, ms |")
    print("|---|---:|---:|---:|---:|")
    for result in results:
        print(
            f"| `{result.operation}` | {result.median_us:.1f} | {result.best_us:.1f} "
            f"| {1e6 / result.median_us:,.0f} | {result.median_us * 50 / 1000:.2f} |"
        )


if __name__ == "__main__":
    main()
