"""docs/dashboard.png: the panels of docs/grafana-dashboard.json from a real run.

``python -m bench.dashboard`` (with the ``dev`` and ``bench`` extras) starts embedded
PostgreSQL, Redis and S3, loads the demo data, runs ``medappt serve --workers 2`` and
``medappt worker --metrics-port``, sends a mixed load for a few minutes (see
:mod:`bench.dashboard.workload`) while scraping both /metrics every second, pauses
Redis for ten seconds on the way, then evaluates every query of the Grafana dashboard
over the scrapes (:mod:`bench.dashboard.promql`) and draws its panels. No Prometheus or
Grafana here: this is their arithmetic, on the same numbers they would have scraped.
"""
