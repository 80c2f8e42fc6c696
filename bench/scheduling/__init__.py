"""Scheduling at scale: availableSlots (cache miss and hit) and bookAppointment over HTTP.

Run with ``python -m bench.scheduling`` (:mod:`bench.scheduling.__main__`) against the
``medappt seed-scale`` database (:mod:`~bench.scheduling.fixture`). Starts one ``medappt
serve --workers 1`` process, mints access tokens with the key it gave it, and drives it
from this process (:mod:`~bench.scheduling.harness`): requests one at a time (the
"anatomy" of a request, :mod:`~bench.scheduling.anatomy`), open loops at fixed rates, and
closed loops of N workers (:mod:`~bench.scheduling.scenarios`). Redis database 5 is flushed
before every row. Bookings are cancelled at the end through cancelAppointment (untimed,
:mod:`~bench.scheduling.bookings`), so the database can be reused. Prints Markdown tables
(:mod:`~bench.scheduling.reports`): latency and outcomes, then the CPU each process group
used per request.
"""
