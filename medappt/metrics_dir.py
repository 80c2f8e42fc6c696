"""The directory where the processes of one ``medappt serve`` run write their metrics."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_dir() -> Iterator[Path]:
    """``PROMETHEUS_MULTIPROC_DIR`` for this run, set before any process imports
    prometheus-client: the operator's directory, emptied of an earlier run's files
    (their counts would be added to ours), or a new temporary one, removed at the end."""
    given = os.environ.get(VARIABLE, "").strip()
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="medappt-metrics-"))
    os.environ[VARIABLE] = str(path)
    try:
        yield path
    finally:
        del os.environ[VARIABLE]
        shutil.rmtree(path, ignore_errors=True)
