"""GET /metrics: the contract's families, and counts exact across the processes of
`medappt serve --workers 2` whichever of them answers the scrape."""

import dataclasses
import json
import re
import uuid
from collections import Counter
from pathlib import Path

import httpx
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import services.metrics
from bench.dashboard.promql import references
from devtools.embedded.process import free_port
from services.rate_limits.budgets import parse_rate_limits
from services.settings import Settings
from tests.support.api import error_codes, graphql, serving
from tests.support.processes import running, until_answers
from tests.support.servers import Servers

ROOT = Path(__file__).resolve().parent.parent

CLINICS = "query Clinics { clinics { id } }"
BROKEN = "query Broken { nope }"
UNNAMED = "{ __typename }"
# Each batch, on new connections so that the kernel spreads them over the processes.
BATCH = [(CLINICS, 3), (BROKEN, 2), (UNNAMED, 1)]


def _serve_env(servers: Servers, settings: Settings, metrics_dir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "S3_ENDPOINT_URL": servers.s3_endpoint_url,
        "S3_BUCKET": settings.s3_bucket,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "MEDAPPT_DATA_DIR": str(settings.data_dir),
    }


def _processes_that_counted(metrics_dir: Path) -> int:
    """How many processes wrote a GraphQL request count (one file each)."""
    counted = 0
    for path in metrics_dir.glob("counter_*.db"):
        metrics = MultiProcessCollector.merge([str(path)], accumulate=True)  # type: ignore[no-untyped-call]
        samples = [
            s for m in metrics for s in m.samples if s.name == "medappt_graphql_requests_total"
        ]
        counted += any(sample.value > 0 for sample in samples)
    return counted


def _requests(scrape: str) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """medappt_graphql_requests_total by (operation, code) and the histogram's counts."""
    totals: dict[tuple[str, str], float] = {}
    durations: dict[str, float] = {}
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            if sample.name == "medappt_graphql_requests_total":
                totals[sample.labels["operation"], sample.labels["code"]] = sample.value
            if sample.name == "medappt_graphql_request_duration_seconds_count":
                durations[sample.labels["operation"]] = sample.value
    return totals, durations


async def test_counts_are_exact_across_two_processes(
    migrated: Servers, settings: Settings, sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:  # fmt: skip
    metrics_dir, log = tmp_path / "metrics", tmp_path / "serve.log"
    url = f"http://127.0.0.1:{free_port()}"
    command = ["serve", "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1], "--workers", "2"]
    batches = 0
    async with running(command, _serve_env(migrated, settings, metrics_dir), log) as serve:
        await until_answers(f"{url}/health", serve, log)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            close = {"Connection": "close"}
            # Until both processes have answered some (at most 30 batches).
            while batches < 30 and (batches == 0 or _processes_that_counted(metrics_dir) < 2):
                for query, times in BATCH:
                    for _ in range(times):
                        await http.post("/graphql", json={"query": query}, headers=close)
                not_json = await http.post(
                    "/graphql", content=b"{", headers=close | {"Content-Type": "application/json"}
                )
                assert not_json.status_code == 400
                batches += 1
            scrapes = [(await http.get("/metrics", headers=close)).text for _ in range(6)]

    assert _processes_that_counted(metrics_dir) == 2
    families = {family.name for family in text_string_to_metric_families(scrapes[0])}
    assert families >= {
        "medappt_graphql_requests", "medappt_graphql_request_duration_seconds",
        "medappt_db_pool_connections", "medappt_slot_cache_requests", "medappt_rate_limited",
        "medappt_server_up",
    }  # fmt: skip
    expected = {
        ("Clinics", "OK"): 3 * batches,
        ("Broken", "BAD_USER_INPUT"): 2 * batches,
        ("anonymous", "OK"): batches,
        ("anonymous", "BAD_USER_INPUT"): batches,
    }
    durations = Counter[str]()
    for (operation, _), count in expected.items():
        durations[operation] += count
    assert [_requests(scrape) for scrape in scrapes] == [(expected, dict(durations))] * 6


def test_the_dashboard_reads_only_metrics_and_labels_that_exist() -> None:
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\bmedappt_\w+", expr)}
    families = {family.name for family in REGISTRY.collect() if family.name.startswith("medappt_")}
    # A counter's samples end in _total, a histogram's in _bucket, _count and _sum.
    samples = {f"{name}{suffix}" for name in families for suffix in ("", "_total", "_bucket")}
    assert used <= samples, used - samples
    label_names = {
        f"{metric._name}{suffix}": {*metric._labelnames, *extra}
        for metric in vars(services.metrics).values() if isinstance(metric, MetricWrapperBase)
        for suffix, extra in (("", ()), ("_total", ()), ("_bucket", ("le",)))
    }  # fmt: skip
    for expr in exprs:
        names, labels = references(expr)
        assert all(labels <= label_names[name] for name in names), expr
    assert families >= {
        "medappt_graphql_requests", "medappt_graphql_request_duration_seconds",
        "medappt_db_pool_connections", "medappt_slot_cache_requests", "medappt_rate_limited",
        "medappt_notifications", "medappt_jobs_queued", "medappt_server_up",
    }  # fmt: skip
    assert len(dashboard["panels"]) == 12


async def test_a_refused_operation_is_counted_under_its_name(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """RATE_LIMITED (like SERVICE_UNAVAILABLE) is raised around the operation, after its
    document was read: the count names the operation, not `anonymous`."""
    limited = dataclasses.replace(
        settings, trusted_proxies=("127.0.0.1/32",), rate_limits=parse_rate_limits("ip=1/3600s")
    )
    client = {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}"}  # a budget of its own

    def count(code: str) -> float:
        labels = {"operation": "Ping", "code": code}
        return REGISTRY.get_sample_value("medappt_graphql_requests_total", labels) or 0.0

    before = count("OK"), count("RATE_LIMITED")
    async with serving(limited) as url, httpx.AsyncClient(base_url=url, headers=client) as http:
        first = await graphql(http, "query Ping { __typename }")  # costs 1: the whole budget
        second = await graphql(http, "query Ping { __typename }")

    assert (error_codes(first), error_codes(second)) == ([], ["RATE_LIMITED"])
    assert (count("OK") - before[0], count("RATE_LIMITED") - before[1]) == (1, 1)
