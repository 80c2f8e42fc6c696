"""The tables a loaded scenario prints: one :class:`Row` per load, against a :class:`Target`."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import profile_summary
from bench.cpu import CpuUse
from bench.load import RunStats


@dataclass(frozen=True, slots=True)
class Target:
    """What a row must show: a p99 bound, no transport failures, and maybe a throughput."""

    p99_ms: float
    min_rps: float | None = None  # of replies with outcome OK

    def met(self, stats: RunStats) -> bool:
        if stats.percentile(0.99) >= self.p99_ms:
            return False
        if stats.count("transport") or stats.count("timeout") or stats.count("HTTP"):
            return False
        return self.min_rps is None or stats.ok_rps >= self.min_rps

    def describe(self) -> str:
        floor = f", >= {self.min_rps:g} ok/s" if self.min_rps is not None else ""
        return f"p99 < {self.p99_ms:g} ms{floor}"


@dataclass(frozen=True, slots=True)
class Row:
    stats: RunStats
    cpu: CpuUse
    profile: Path | None
    pg_sessions: int  # connections opened to PostgreSQL during the row

    def ms_per_reply(self, seconds: float) -> float:
        return seconds / self.stats.replies * 1e3 if self.stats.replies else float("nan")


@dataclass
class Report:
    title: str
    target: Target
    outcome_columns: Sequence[tuple[str, str]]  # (header, outcome prefix)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", *self._latency_table(), "", *self._cpu_table()]
        others = sorted(
            {
                outcome
                for row in self.rows
                for outcome in row.stats.outcomes
                if not any(outcome.startswith(prefix) for _, prefix in self.outcome_columns)
            }
        )
        notes = list(self.notes)
        if others:
            notes.append("Other outcomes: " + "; ".join(f"`{o}`" for o in others) + ".")
        if notes:
            lines += ["", *(f"- {note}" for note in notes)]
        return "\n".join(lines)

    def _latency_table(self) -> list[str]:
        extra = [header for header, _ in self.outcome_columns]
        head = ["load", "requests", "achieved req/s", *extra, "other errors"]
        head += ["p50 ms", "p95 ms", "p99 ms", "max ms", "gen. lag p99 ms", self.target.describe()]
        lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|"]
        for row in self.rows:
            run = row.stats
            listed = [run.count(prefix) for _, prefix in self.outcome_columns]
            cells = [run.load + (" (ran out of slots)" if run.exhausted else "")]
            cells += [f"{run.samples:,}", f"{run.achieved_rps:,.0f}"]
            cells += [f"{n:,}" for n in listed] + [f"{run.samples - sum(listed):,}"]
            cells += [f"{run.percentile(q):,.1f}" for q in (0.50, 0.95, 0.99)]
            cells += [f"{run.max_ms:,.1f}", f"{run.lag_p99_ms:,.1f}"]
            cells.append("yes" if self.target.met(run) else "**no**")
            lines.append("| " + " | ".join(cells) + " |")
        return lines

    def _cpu_table(self) -> list[str]:
        lines = [
            "| load | API CPU ms/req | PostgreSQL CPU ms/req | Redis CPU ms/req "
            "| generator CPU ms/req | API busy (cores) | PostgreSQL busy (cores) "
            "| anything else (cores) | PG connections opened |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in self.rows:
            cpu = row.cpu
            per = [row.ms_per_reply(s) for s in (cpu.api, cpu.postgres, cpu.redis, cpu.generator)]
            busy = [cpu.cores(s) for s in (cpu.api, cpu.postgres, cpu.other)]
            lines.append(
                f"| {row.stats.load} | "
                + " | ".join(f"{value:.2f}" for value in per)
                + " | "
                + " | ".join(f"{value:.2f}" for value in busy)
                + f" | {row.pg_sessions:,} |"
            )
        return lines

    def profiles(self) -> str:
        """Where the API's CPU went in each profiled row."""
        parts: list[str] = []
        for row in self.rows:
            if row.profile is None or not row.profile.exists():
                continue
            shares, samples, _ = profile_summary.summarize(row.profile)
            parts.append(
                f"#### Profile: {self.title}, {row.stats.load} ({samples:,} samples)\n\n"
                + profile_summary.markdown(shares, row.ms_per_reply(row.cpu.api))
            )
        return "\n\n".join(parts)
