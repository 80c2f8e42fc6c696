"""The Markdown report: the rows, A against B, the collector, the query shapes, profiles."""

import os
from collections import Counter
from collections.abc import Sequence

from bench.git_commit import short_commit
from bench.records.database import DOCTORS, RECORDS
from bench.records.profile_categories import PROFILE_RATE, read_profile
from bench.records.runs import Bench, Result


def _results_table(results: Sequence[Result]) -> list[str]:
    head = "| server | links | requests | req/s | p50 ms | p95 ms | p99 ms | max ms "
    head += "| server CPU % | server CPU ms/req | PostgreSQL CPU ms/req | Redis CPU ms/req "
    head += "| client CPU ms/req | others' CPU % | audit rows/req | reply bytes |"
    lines = [head, "|---|---|" + "---:|" * 14]
    for r in results:
        s = r.stats
        cells = [
            f"{r.spec.label}",
            r.links,
            f"{s.samples:,}",
            f"{s.achieved_rps:,.0f}",
            *(f"{s.percentile(q):.1f}" for q in (0.5, 0.95, 0.99)),
            f"{s.max_ms:.1f}",
            f"{r.cpu.server_s / r.cpu.wall_s * 100:.0f}",
            f"{r.server_ms:.2f}",
            f"{r.per_request_ms(r.cpu.postgres_s):.2f}",
            f"{r.per_request_ms(r.cpu.redis_s):.2f}",
            f"{r.per_request_ms(r.cpu.client_s):.2f}",
            f"{r.cpu.others_s / r.cpu.wall_s * 100:.0f}",
            f"{r.audit_per_request:.1f}",
            f"{r.response_bytes:,}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _ratios(results: Sequence[Result]) -> list[str]:
    """A against every baseline; A's variants against the first baseline only."""
    lines: list[str] = []
    for links in ("warm", "cold"):
        runs = [r for r in results if r.links == links]
        baselines = [r for r in runs if r.spec.label.startswith("B")]
        for a in (r for r in runs if r.spec.label.startswith("A")):
            for b in baselines if a.spec.label == "A" else baselines[:1]:
                ratio = a.stats.achieved_rps / b.stats.achieved_rps
                verdict = "meets" if ratio >= 0.5 else "**misses**"
                lines.append(
                    f"- {links} links, {a.spec.label} / {b.spec.label}: "
                    f"{a.stats.achieved_rps:,.0f} / {b.stats.achieved_rps:,.0f} = "
                    f"**{ratio:.2f}** ({verdict} the >= 0.5 target)"
                )
    return lines


def _gc_table(results: Sequence[Result]) -> list[str]:
    measured = [r for r in results if r.gc is not None]
    if not measured:
        return []
    lines = [
        "### The cyclic garbage collector in A (instrumented runs, `gc.callbacks`)",
        "",
        "| server | req/s | server CPU ms/req | GC ms/req | GC share of server CPU "
        "| gen0 / gen1 / gen2 collections per s | gen0 / gen1 / gen2 ms/req "
        "| tracked objects (frozen) |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in measured:
        assert r.gc is not None
        gc_ms = r.per_request_ms(sum(r.gc.seconds))
        rates = " / ".join(f"{n / r.cpu.wall_s:,.1f}" for n in r.gc.collections)
        per_gen = " / ".join(f"{r.per_request_ms(t):.2f}" for t in r.gc.seconds)
        lines.append(
            f"| {r.spec.label} | {r.stats.achieved_rps:,.0f} | {r.server_ms:.2f} | {gc_ms:.2f} "
            f"| {gc_ms / r.server_ms * 100:.0f} % | {rates} | {per_gen} "
            f"| {r.gc.tracked:,} ({r.gc.frozen:,}) |"
        )
    return [*lines, ""]


def _shapes_table(results: Sequence[Result]) -> list[str]:
    shaped = [r for r in results if r.series == "shapes"]
    full = [r for r in shaped if r.shape == "full"]
    if len(shaped) < 2 or not full:
        return []
    reference = full[0]
    lines = [
        "### What each part of the query costs A (warm links, one run per shape)",
        "",
        "| query shape | req/s | server CPU ms/req | vs full, ms/req | audit rows/req "
        "| reply bytes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in shaped:
        lines.append(
            f"| {r.shape} | {r.stats.achieved_rps:,.0f} | {r.server_ms:.2f} "
            f"| {r.server_ms - reference.server_ms:+.2f} | {r.audit_per_request:.1f} "
            f"| {r.response_bytes:,} |"
        )
    return [*lines, ""]


def _share_rows(counter: Counter[str], main: int, cpu_ms: float | None) -> list[str]:
    rows = []
    for category, samples in counter.most_common():
        share = samples / main if main else 0.0
        ms = f"{share * cpu_ms:.2f}" if cpu_ms else "-"
        rows.append(f"| {category} | {share * 100:.1f} % | {ms} |")
    return rows


def _profile_tables(bench: Bench) -> list[str]:
    lines: list[str] = []
    for spec, path in bench.profiles:
        profile = read_profile(path)
        main = profile.main_samples
        measured = [
            r
            for r in bench.results
            if r.spec.label == spec.label and r.links == "warm" and r.shape == "full"
        ]
        cpu_ms = measured[0].server_ms if measured else None
        lines += [
            f"### Where {spec.label}'s time goes (warm links, full query)",
            "",
            f"py-spy{' --native' if bench.options.native else ''}, {PROFILE_RATE} Hz, "
            f"{bench.options.profile_s:g} s under the same load: {main:,} busy samples of the "
            f"main (event-loop) thread ({profile.all_samples:,} in all); the first rule "
            "that matches a sample's stack takes it"
            + (f"; ms/request share the {cpu_ms:.2f} ms of server CPU measured" if cpu_ms else "")
            + f". Raw stacks: `{path}`.",
            "",
            "| where | share | ms/request |",
            "|---|---:|---:|",
            *_share_rows(profile.phases, main, cpu_ms),
            "",
        ]
        for title, counter in (
            ("GC samples by the work that triggered the collection", profile.gc_triggers),
            (
                "Other SQL samples by layer, any statement (share of all samples)",
                profile.sql_layers,
            ),
            ("`GraphQL: execute` by innermost Python frame (share of all)", profile.execute_owners),
        ):
            if counter:
                lines += [
                    f"{title}:",
                    "",
                    "| where | share of all busy samples | ms/request |",
                    "|---|---:|---:|",
                    *_share_rows(counter, main, cpu_ms),
                    "",
                ]
    return lines


def report(bench: Bench) -> str:
    options = bench.options
    main_results = [r for r in bench.results if r.series == "main"]
    lines = [
        f"Patient records ({RECORDS} records, {DOCTORS} doctors, `records(first: 50)` with "
        f"doctor and document link): commit {short_commit() or '?'}, {os.cpu_count()} CPUs shared "
        f"by the server, PostgreSQL, Redis and this generator; closed loop of "
        f"{options.connections} connections (aiohttp), {options.warmup_s:g} s warm-up + "
        f"{options.duration_s:g} s measured per row; one server at a time, uvicorn with 1 "
        "worker, uvloop and httptools. CPU columns are CPU seconds per answered request "
        '(from /proc); "others" is what processes outside the bench used meanwhile '
        f"(a row is run again, up to {options.attempts} times, while above "
        f"{options.max_others:g} CPUs).",
        "",
        *_results_table(main_results),
        "",
        *_ratios(main_results),
        "",
        "Servers: "
        + "; ".join(
            f"**{spec.label}**: {spec.description}"
            for spec in {r.spec.label: r.spec for r in bench.results}.values()
        )
        + ".",
        "",
        *_gc_table(main_results),
        *_shapes_table(bench.results),
        *_profile_tables(bench),
    ]
    return "\n".join(lines)
