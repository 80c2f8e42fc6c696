"""``python -m bench.request_instructions``: instructions one request costs the API process,
counted by callgrind.

CPU seconds on this machine have moved by half within an hour, more than a change to the
code moves them (docs/performance.md, "The eleventh pass"); callgrind counts the
instructions a process executes, the same whatever else the machine does. For each
scenario, ``python -m bench.request_cpu --requests N`` (the whole app in process, the
bench database, the machine's Redis) runs under ``valgrind --tool=callgrind`` twice, for
``--few`` and ``--many`` requests after the same warm-up; the difference of the two
counts over the difference of requests is one request's instructions, the start-up
(imports, the app's start, the fixture) cancelled out. The kernel's work (socket writes)
is not counted. Some minutes a run; needs valgrind.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.git_commit import short_commit

# What callgrind prints of the instructions executed: "==123== Collected : 24527225834".
_COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(scenario: str, requests: int, redis_url: str) -> int:
    """Instructions of one ``bench.request_cpu --requests`` process, start-up included."""
    with tempfile.TemporaryDirectory(prefix="medappt-callgrind-") as directory:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={Path(directory) / 'callgrind.out'}",
            sys.executable,
            "-m",
            "bench.request_cpu",
            "--scenarios",
            scenario,
            "--requests",
            str(requests),
            "--redis-url",
            redis_url,
        ]
        # The same hashes in every run: dict layouts, and so instructions, repeat.
        environment = {**os.environ, "PYTHONHASHSEED": "0"}
        finished = subprocess.run(  # noqa: S603  (our own command line)
            command, env=environment, capture_output=True, text=True, check=True
        )
    found = _COLLECTED.search(finished.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{finished.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenarios", default="hit,records", help="of hit, records")
    parser.add_argument("--few", type=int, default=20)
    parser.add_argument("--many", type=int, default=420)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5", help="flushed")
    arguments = parser.parse_args()
    scenarios = [name for name in arguments.scenarios.split(",") if name]
    unknown = set(scenarios) - {"hit", "records"}
    if unknown or arguments.many <= arguments.few:
        parser.error("scenarios of hit and records only, and --many above --few")
    print(f"Commit {short_commit() or '?'}; {arguments.few} and {arguments.many} requests.")
    print("| scenario | instructions a request |")
    print("|---|---:|")
    for scenario in scenarios:
        few = instructions(scenario, arguments.few, arguments.redis_url)
        many = instructions(scenario, arguments.many, arguments.redis_url)
        per_request = (many - few) / (arguments.many - arguments.few)
        print(f"| {scenario} | {per_request / 1e6:.3f} M |")


if __name__ == "__main__":
    main()
