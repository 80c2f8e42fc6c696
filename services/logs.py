"""Logging for serve, worker and dev: one format, and nothing about a patient.

Exception messages are where patient data slips into logs: PostgreSQL's DETAIL
repeats the values of a violated key or a failing row, asyncpg quotes arguments
it could not encode, ValueError and KeyError quote what they were given. So an
exception is written as its type and stack frames; a database error adds its
SQLSTATE and constraint, which are names, not data. This holds for exceptions
attached to a record (``exc_info``) and for exceptions passed as arguments
(arq's "job failed, <error>").
"""

import logging
import logging.config
import traceback
from collections.abc import Mapping
from typing import Any, Final

from services.settings import LogFormat

LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Neither format (this one, services/json_logs.py) names the calling function or line:
# no record needs the stack walk that finds them, a third of an access line's cost.
# Set on import, so in every process whose logging these formatters configure (Python's
# logging HOWTO, "Optimization").
logging._srcfile = None

# Messages made by code, not by data: worth keeping for whoever debugs.
_SAFE_MESSAGES: Final = (AttributeError, NameError, ImportError, OSError)
# Identifiers a database error carries (asyncpg's names for them).
_DATABASE_FIELDS: Final = ("sqlstate", "constraint_name")


def describe_exception(error: BaseException) -> str:
    """A traceback like Python's, with each exception named but its message left out."""
    parts: list[str] = []
    for index, exception in enumerate(_chain(error)):
        if index:
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
                if exception.__cause__ is not None
                else "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        if exception.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(exception.__traceback__))
        parts.append(summarize_exception(exception) + "\n")
    return "".join(parts).rstrip("\n")


def summarize_exception(error: BaseException) -> str:
    """``asyncpg.exceptions.UniqueViolationError (sqlstate 23505, constraint_name ...)``."""
    kind = type(error)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(error, _SAFE_MESSAGES):
        return f"{name}: {error}"
    details = [
        f"{field} {value}"
        for field in _DATABASE_FIELDS
        if isinstance(value := getattr(error, field, None), str)
    ]
    return f"{name} ({', '.join(details)})" if details else name


def _chain(error: BaseException) -> list[BaseException]:
    """The exception and those it came from, oldest first, as Python prints them."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and not any(current is seen for seen in chain):
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    return chain[::-1]


class PrivateFormatter(logging.Formatter):
    """Formats each record with its exceptions described, not quoted: those of a record
    that has any are described in a copy, which other handlers do not see."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info is None and record.exc_text is None and not _quotes(record.args):
            # Nothing to describe (an access line, most lines): a copy would read the same.
            return super().format(record)
        safe = logging.makeLogRecord(record.__dict__)
        # Another handler's formatter may have cached the full traceback here.
        safe.exc_text = None
        if safe.exc_info is not None and safe.exc_info[1] is not None:
            safe.exc_text = describe_exception(safe.exc_info[1])
        safe.exc_info = None
        if isinstance(safe.args, Mapping):
            safe.args = {key: _safe_argument(value) for key, value in safe.args.items()}
        elif isinstance(safe.args, tuple):
            safe.args = tuple(_safe_argument(value) for value in safe.args)
        return super().format(safe)


def _quotes(args: object) -> bool:
    """Whether a record's arguments (as ``format`` reads them) hold an exception."""
    values = args.values() if isinstance(args, Mapping) else args if isinstance(args, tuple) else ()
    return any(isinstance(value, BaseException) for value in values)


def _safe_argument(value: object) -> object:
    return summarize_exception(value) if isinstance(value, BaseException) else value


def log_config(log_format: LogFormat = "text") -> dict[str, Any]:
    """For logging.config.dictConfig and uvicorn's ``log_config``: uvicorn's own
    handlers would bypass the formatter, so its loggers propagate to ours."""
    formatter: dict[str, Any] = (
        {"()": "services.json_logs.JsonFormatter"}
        if log_format == "json"
        else {"()": PrivateFormatter, "fmt": LOG_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"private": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "private"}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            # Undo uvicorn's defaults where they were applied before (tests serve
            # in-process). Its access lines are off: medappt.access writes one per
            # request, with the request's ids and without the query string.
            "uvicorn": {"propagate": True},
            "uvicorn.error": {"propagate": True},
            "uvicorn.access": {"propagate": True, "level": "WARNING"},
            # The outbox relay runs every second; arq's line per job would drown the rest.
            "arq.worker": {"level": "WARNING"},
            # At DEBUG these write result rows and request bodies, whatever the root level.
            "sqlalchemy.engine": {"level": "WARNING"},
            # The pool logs under its class's module (db/engine.py), outside "sqlalchemy",
            # which SQLAlchemy holds at WARNING: so do we.
            "db.engine.GatedPool": {"level": "WARNING"},
            "botocore": {"level": "WARNING"},
            "aiobotocore": {"level": "WARNING"},
        },
    }


def configure_logging(log_format: LogFormat = "text") -> None:
    logging.config.dictConfig(log_config(log_format))
