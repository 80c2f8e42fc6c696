"""The commit a benchmark ran on, for its report."""

import subprocess
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def short_commit() -> str:
    """``git rev-parse --short HEAD`` of this checkout, or "" if git cannot tell."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=_ROOT,
    ).stdout.strip()
