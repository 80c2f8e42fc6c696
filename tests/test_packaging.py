"""The wheel the container image installs builds, holds what `medappt migrate` and
`serve` need, and the Dockerfile copies every package of it (no container runtime here)."""

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_builds_with_the_migrations_and_without_tests(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("medappt-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    assert {
        "medappt/cli.py", "medappt/asgi.py", "services/metrics.py", "db/migrations/env.py",
        "db/migrations/script.py.mako", "db/migrations/versions/0001_initial_schema.py",
    } <= names  # fmt: skip
    assert not [name for name in names if name.startswith(("tests/", "bench/"))]


def test_the_dockerfile_copies_every_package_and_runs_as_a_user() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        pattern.removesuffix("*")
        for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) \1$", dockerfile, re.MULTILINE))

    assert copied == packages
    assert dockerfile.count("\nFROM ") == 2  # build, then run without build tools
    assert re.search(r"^USER medappt$", dockerfile, re.MULTILINE)
