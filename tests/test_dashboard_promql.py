"""bench/dashboard/promql.py computes the dashboard's panels as Prometheus would: the
picture in the README is only as true as this arithmetic."""

import math

import pytest

from bench.dashboard.promql import Scrapes, compile_expr, references

BUCKETS = [("0.005", 2), ("0.01", 6), ("0.025", 10), ("+Inf", 11)]


def _scrapes() -> Scrapes:
    """One second apart: 10 OK and 1 error per second; the histogram grows by BUCKETS."""
    scrapes = Scrapes()
    for second in range(20):
        scrapes.add(float(second), [
            ("medappt_graphql_requests_total", {"operation": "A", "code": "OK"}, 10.0 * second),
            ("medappt_graphql_requests_total", {"operation": "A", "code": "BAD"}, 1.0 * second),
            *[("medappt_graphql_request_duration_seconds_bucket", {"operation": "A", "le": le}, n * second) for le, n in BUCKETS],
        ])  # fmt: skip
    return scrapes


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('sum by (code) (rate(medappt_graphql_requests_total[$__rate_interval]))', {(("code", "OK"),): 10.0, (("code", "BAD"),): 1.0}),
        ('sum(rate(medappt_graphql_requests_total{code!="OK"}[$__rate_interval])) / sum(rate(medappt_graphql_requests_total[$__rate_interval]))', {(): 1 / 11}),
        ("sum by (operation) (rate(medappt_graphql_requests_total[$__rate_interval])) * 60", {(("operation", "A"),): 660.0}),
        # Rank 5.5 of 11 falls in (0.005, 0.01], which holds ranks 3 to 6: 3.5/4 of the way.
        ("histogram_quantile(0.5, sum by (le) (rate(medappt_graphql_request_duration_seconds_bucket[$__rate_interval])))", {(): 0.005 + 0.005 * 3.5 / 4}),
        # Past the last finite bucket: its upper bound, as Prometheus answers.
        ("histogram_quantile(0.99, sum by (le) (rate(medappt_graphql_request_duration_seconds_bucket[$__rate_interval])))", {(): 0.025}),
        ('max(medappt_graphql_requests_total{code="BAD"})', {(): 19.0}),
    ],
)  # fmt: skip
def test_queries_evaluate_as_prometheus_does(expr: str, expected: dict[tuple[tuple[str, str], ...], float]) -> None:  # fmt: skip
    result = compile_expr(expr)(_scrapes(), 19.0, 15.0)

    assert {tuple(sorted(labels)): value for labels, value in result.items()} == pytest.approx(
        expected
    )


def test_a_counter_reset_is_not_a_negative_rate() -> None:
    scrapes = Scrapes()
    for second, value in enumerate([100.0, 110.0, 5.0, 15.0]):  # a process restarted at 2 s
        scrapes.add(float(second), [("medappt_rate_limited_total", {"limit": "request"}, value)])

    (rate,) = compile_expr("sum(rate(medappt_rate_limited_total[10s]))")(
        scrapes, 3.0, 10.0
    ).values()

    assert rate == pytest.approx((10 + 5 + 10) / 3)


def test_a_quantile_of_nothing_is_not_a_number() -> None:
    scrapes = Scrapes()
    for second in range(3):
        scrapes.add(float(second), [("medappt_graphql_request_duration_seconds_bucket", {"le": "+Inf"}, 4.0)])  # fmt: skip

    result = compile_expr("histogram_quantile(0.5, sum by (le) (rate(medappt_graphql_request_duration_seconds_bucket[1m])))")(scrapes, 2.0, 60.0)  # fmt: skip

    assert math.isnan(result[frozenset()])


def test_what_a_query_reads() -> None:
    assert references('sum by (pool, state) (medappt_db_pool_connections{state!="capacity"})') == (
        {"medappt_db_pool_connections"}, {"pool", "state"}
    )  # fmt: skip
