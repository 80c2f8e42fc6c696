"""The load-test report: every SLA scenario at several offered loads, tables and plots.

Run with ``python -m bench.report [--quick]`` (:mod:`bench.report.__main__`). It uses the
machine's PostgreSQL only in a database of its own, ``medappt_bench_speed`` (created,
migrated and filled with ``medappt seed-scale`` data the first time,
:mod:`~bench.report.fixture`), and Redis database 7 (flushed before each row). It starts
``medappt serve --workers 1`` with a key it holds (:mod:`bench.api_server`) and drives it
with the scheduling bench's harness (:mod:`bench.scheduling`): open loops at fixed rates
(latency from each request's due time) and closed loops. Scenarios:

- ``availableSlots`` on a cache miss and a cache hit, and ``bookAppointment``
  (:mod:`bench.scheduling.scenarios`);
- the records query: a patient's 50 records with their links, against the hand-written
  handler of :mod:`bench.records.baseline` on the same data in the same run
  (:mod:`~bench.report.records`);
- a mixed workload of the three kinds of user: patients looking at days, booking and
  cancelling, doctors reading their patients' records and their schedule, admins reading
  schedules and the clinic report (:mod:`~bench.report.mixed`);
- throughput with 1 and 2 API processes, booking and cache hits
  (:mod:`~bench.report.processes`).

It prints each SLA of issue 15 as pass or fail, writes the tables into
``docs/performance.md`` between its markers (the hand-written sections stay as they are)
and the plots into ``docs/plots/`` (:mod:`~bench.report.document`,
:mod:`~bench.report.plots`; matplotlib, the ``bench`` extra).
"""
