"""A patient's records over HTTP: ``medappt serve`` against a hand-written baseline.

Run with ``python -m bench.records [--profile DIR]`` (:mod:`bench.records.__main__`).
Creates the database ``medappt_bench_records`` on the local PostgreSQL (dropped again at the
end), migrates it, and stores one patient with 50 AVAILABLE records from 3 doctors
(:mod:`~bench.records.database`); starts a moto S3 server (links are only signed, objects
need not exist) and uses Redis database 6 (flushed before each run and at the end).

Then, one server at a time (the machine is small), each started afresh
(:mod:`~bench.records.servers`): ``medappt serve --workers 1`` (A, the product) and
``python -m bench.records.baseline`` (B: one SQL statement, no GraphQL; its docstring
describes the ``full``/``verify``/``none`` token checks and ``+audit``) answer ``QUERY``
(:mod:`~bench.records.query`) for a closed loop of ``--connections`` clients in this process
(aiohttp): ``--warmup`` seconds not measured, then ``--duration`` seconds measured
(:mod:`~bench.records.runs`). Before each run the answer is checked: 50 records, the same
JSON from A and B (links compared without their signature), the same links again on a
second request. CPU is read from ``/proc`` for the server, the bench database's PostgreSQL
processes, Redis, this generator and everything else ("others": the bench waits for the
machine to be quiet before each run, up to ``--quiet-wait`` seconds;
:mod:`~bench.records.cpu_and_gc`).

- ``warm`` runs send one caller's token, so every link is reused after the first request,
  as for a user paging through their records; ``cold`` runs (A and the first B) give every
  request a token of a different user for the same patient, so all 50 links are signed.
- ``--products``: A's app run by :mod:`bench.records.instrumented_product` (the same app and
  uvicorn settings as ``medappt serve``) with the garbage collector's time counted through
  ``gc.callbacks``: as ``medappt serve`` sets the collector (``asis``), with Python's
  defaults (``default``), or with ``gc.freeze()`` after start-up and/or another
  first-generation threshold, to price those settings without changing the product (see
  :func:`bench.records.servers.product_spec`).
- ``--shapes``: A again, shorter runs, with lighter queries (no links, no doctor, ...), so
  the difference prices each part of the query.
- ``--profile DIR``: A and the first B once more under the same load while py-spy records
  them (``--native``, so the collector and C code show); the samples of the event-loop
  thread are sorted into where the time goes (:mod:`~bench.records.profile_categories`) and
  scaled by the CPU per request measured in the run without py-spy.

Prints Markdown (:mod:`~bench.records.report`).
"""
