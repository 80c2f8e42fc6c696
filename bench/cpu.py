"""CPU time of the processes a benchmark involves, from ``/proc`` (Linux only).

On a small machine the API, PostgreSQL, Redis and the load generator share the cores, so a
run's numbers mean little without knowing who used them, and whether anything else did.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name is in parentheses and may contain spaces.
    return text.rsplit(")", 1)[1].split()


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (0 if it is gone)."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def backends_seconds(postmaster: int, database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``database``, plus the backends the
    server has reaped.

    Live backends name their database in their process title ("postgres: 15/main: user
    database host(port) state"); other databases' live sessions and the shared background
    processes are left out. A backend that exited is known only through the postmaster's
    children total, which holds every database's: a connection pool that opens and closes
    connections would otherwise make the count go down.
    """
    if postmaster <= 0:
        return 0.0
    try:
        fields = _stat_fields(postmaster)
        total = (int(fields[13]) + int(fields[14])) / _TICKS  # cutime, cstime
    except OSError:
        return 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            if int(_stat_fields(pid)[1]) != postmaster:
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if f" {database} " in title:
            total += process_seconds(pid)
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle (nor waiting for I/O) since boot."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _TICKS


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    at: float
    api: float
    postgres: float
    redis: float
    generator: float
    machine: float


@dataclass(frozen=True, slots=True)
class CpuUse:
    """CPU seconds per process group over an interval of ``wall_s`` seconds."""

    wall_s: float
    api: float
    postgres: float
    redis: float
    generator: float
    machine: float

    @property
    def other(self) -> float:
        """What else ran on the machine meanwhile (other users' work, the kernel)."""
        return max(0.0, self.machine - self.api - self.postgres - self.redis - self.generator)

    def cores(self, seconds: float) -> float:
        return seconds / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class CpuMeter:
    api_pid: int
    postgres_pid: int  # the postmaster
    database: str  # whose backends count
    redis_pid: int

    def snapshot(self) -> CpuSnapshot:
        return CpuSnapshot(
            at=time.perf_counter(),
            api=process_seconds(self.api_pid),
            postgres=backends_seconds(self.postgres_pid, self.database),
            redis=process_seconds(self.redis_pid),
            generator=time.process_time(),
            machine=machine_busy_seconds(),
        )

    @staticmethod
    def between(before: CpuSnapshot, after: CpuSnapshot) -> CpuUse:
        return CpuUse(
            wall_s=after.at - before.at,
            api=after.api - before.api,
            postgres=after.postgres - before.postgres,
            redis=after.redis - before.redis,
            generator=after.generator - before.generator,
            machine=after.machine - before.machine,
        )


# Machines of this kind have run it in 0.18 to 2.0 s, from one day to the next.
YARDSTICK_ADDITIONS = 10_000_000


def yardstick_seconds(runs: int = 3) -> float:
    """The machine's speed for pure Python today: CPU seconds of the fastest of ``runs``
    loops of 10 million additions. Numbers of one day compare with another's only
    through it; a change is judged by turns taken within one run."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        total = 0
        for number in range(YARDSTICK_ADDITIONS):
            total += number
        best = min(best, time.process_time() - started)
    return best
