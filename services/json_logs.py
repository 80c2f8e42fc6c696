"""JSON log lines (``MEDAPPT_LOG_FORMAT=json``): one object a line, with the request's ids."""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from services.logs import PrivateFormatter
from services.request_record import current_request


class JsonFormatter(PrivateFormatter):
    def __init__(self) -> None:
        super().__init__("%(message)s")

    """Each record as one JSON object: time, level, logger, message, the ids of the request
    being served (``request_id``, ``operation``, ``user_id``) and, on an access line, its
    fields. Exceptions are described as PrivateFormatter describes them: no messages."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # The message with its arguments, then any exception described: newlines
            # are escaped, so a traceback stays on its line.
            "message": super().format(record),
        }
        request = current_request.get()
        if request is not None:
            line |= {
                "request_id": request.request_id,
                "operation": request.operation,
                "user_id": request.user_id,
            }
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            line |= access
        return json.dumps(line, ensure_ascii=False, default=str)
