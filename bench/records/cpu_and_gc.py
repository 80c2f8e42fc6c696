"""What a measured window cost: CPU of the bench's processes and of everything else (from
``/proc``), and the garbage collector's work inside an instrumented server."""

import asyncio
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.cpu import machine_busy_seconds
from bench.records.instrumented_product import GC_PATH
from bench.records.servers import Server

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class _Process:
    pid: int
    ppid: int
    name: str
    cmdline: str
    cpu_s: float


def _processes() -> list[_Process]:
    found: list[_Process] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        found.append(
            _Process(
                pid=int(entry.name),
                ppid=int(fields[1]),
                name=stat[stat.find("(") + 1 : stat.rfind(")")],
                cmdline=cmdline,
                cpu_s=(int(fields[11]) + int(fields[12])) / _CLOCK_TICKS,
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Probe:
    """Which processes are the bench's: the server, its database's PostgreSQL processes,
    Redis, this generator; anything else busy on the machine is "others"."""

    server_pid: int
    database: str
    redis_port: int


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    at: float
    server_s: float
    postgres_s: float
    redis_s: float
    client_s: float
    machine_s: float

    @classmethod
    def take(cls, probe: Probe) -> "CpuSnapshot":
        processes = _processes()
        # Backends of the bench database, and the cluster's background processes (WAL
        # writer, checkpointer, autovacuum: they work for the audit INSERTs too).
        backends = [
            p for p in processes if p.name == "postgres" and f" {probe.database} " in p.cmdline
        ]
        clusters = {p.ppid for p in backends}
        auxiliary = [
            p
            for p in processes
            if p.name == "postgres" and p.ppid in clusters and "(" not in p.cmdline
        ]
        redis = [
            p for p in processes if p.name == "redis-server" and f":{probe.redis_port}" in p.cmdline
        ]
        server = [p for p in processes if p.pid == probe.server_pid]
        return cls(
            at=time.perf_counter(),
            server_s=sum(p.cpu_s for p in server),
            postgres_s=sum(p.cpu_s for p in (*backends, *auxiliary)),
            redis_s=sum(p.cpu_s for p in redis),
            client_s=time.process_time(),
            machine_s=machine_busy_seconds(),
        )


@dataclass(frozen=True, slots=True)
class CpuUse:
    wall_s: float
    server_s: float
    postgres_s: float
    redis_s: float
    client_s: float
    others_s: float  # everything else that kept the machine's CPUs busy

    @classmethod
    def between(cls, before: CpuSnapshot, after: CpuSnapshot) -> "CpuUse":
        server = after.server_s - before.server_s
        postgres = after.postgres_s - before.postgres_s
        redis = after.redis_s - before.redis_s
        client = after.client_s - before.client_s
        machine = after.machine_s - before.machine_s
        return cls(
            wall_s=after.at - before.at,
            server_s=server,
            postgres_s=postgres,
            redis_s=redis,
            client_s=client,
            others_s=max(0.0, machine - server - postgres - redis - client),
        )


async def wait_for_quiet(max_wait_s: float, cores: float = 0.25) -> float:
    """Wait until processes that are not the bench's use less than ``cores`` CPUs (others
    may be benchmarking or testing on the same machine); the last level seen."""
    started = time.monotonic()
    told = -math.inf
    while True:
        machine, client = machine_busy_seconds(), time.process_time()
        await asyncio.sleep(2.0)
        level = (machine_busy_seconds() - machine - (time.process_time() - client)) / 2.0
        waited = time.monotonic() - started
        if level < cores or waited > max_wait_s:
            return level
        if waited - told >= 30.0:
            told = waited
            print(f"  waiting: other processes keep {level:.2f} CPUs busy", file=sys.stderr)


@dataclass(frozen=True, slots=True)
class GcUse:
    """The collector's work during a window, by generation, from an instrumented server."""

    collections: tuple[int, int, int]
    seconds: tuple[float, float, float]
    tracked: int  # objects the collector tracks at the end (frozen ones excluded)
    frozen: int

    @classmethod
    def between(cls, before: dict[str, Any], after: dict[str, Any]) -> "GcUse":
        c = [
            int(a) - int(b)
            for a, b in zip(after["collections"], before["collections"], strict=True)
        ]
        t = [float(a) - float(b) for a, b in zip(after["seconds"], before["seconds"], strict=True)]
        return cls(
            collections=(c[0], c[1], c[2]),
            seconds=(t[0], t[1], t[2]),
            tracked=int(after["tracked"]),
            frozen=int(after["frozen"]),
        )


async def _gc_clock(server: Server) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(server.url + GC_PATH) as response:
        clock: dict[str, Any] = await response.json()
        return clock


async def measured_window(
    server: Server, probe: Probe, instrumented: bool, warmup_s: float, duration_s: float
) -> tuple[CpuUse, GcUse | None]:
    """CPU (and, from an instrumented server, GC) used during the measured part of a run
    that starts now."""
    await asyncio.sleep(warmup_s)
    before_gc = await _gc_clock(server) if instrumented else None
    before = CpuSnapshot.take(probe)
    await asyncio.sleep(duration_s)
    cpu = CpuUse.between(before, CpuSnapshot.take(probe))
    if before_gc is None:
        return cpu, None
    return cpu, GcUse.between(before_gc, await _gc_clock(server))
