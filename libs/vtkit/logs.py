"""JSON-lines logging through structlog. Log records carry ids and tenants, never personal data.

One line per record, whoever logs it: the suite's stdlib loggers (with `extra=` fields), faust, mode, aiokafka and
grpc all go through the root handler, whose structlog ProcessorFormatter renders them; structlog's own loggers
(`structlog.get_logger()`) end in the same formatter. The shape ops tooling and tests read:

  time, level, service, logger, msg, <the record's extra fields>, and when an exception is logged
  error (its last line, "Type: message") and traceback (the whole traceback, chained causes included, in the
  one line); trace_id and span_id (hex) when a span is active (vtkit.tracing).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

from vtkit import tracing

# Not extra fields: the LogRecord's own attributes, and what structlog's wrap_for_formatter attaches.
_STANDARD = set(vars(logging.LogRecord("x", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName", "_logger",
                                                                           "_name"}


def _shape(service: str) -> Any:
    """The final event dict, in the order of the line: time, level, service, logger, msg, extras, error, traceback."""

    def shape(_logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        record: logging.LogRecord | None = event.pop("_record", None)
        event.pop("_from_structlog", None)
        created = record.created if record is not None else dt.datetime.now(dt.UTC).timestamp()
        level = record.levelname.lower() if record is not None else str(event.pop("level", method)).lower()
        event.pop("level", None)
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(created, dt.UTC).isoformat(),
            "level": level,
            "service": service,
            "logger": record.name if record is not None else str(event.pop("logger", "structlog")),
            "msg": event.pop("event", ""),
        }
        exc_info = event.pop("exc_info", None)
        stack = event.pop("stack_info", None)
        if record is not None:
            line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        line.update(event)
        if isinstance(stack, str):
            line["stack"] = stack
        if exc_info is True:
            exc_info = sys.exc_info()
        if isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        if exc_info and exc_info[0] is not None:
            text = "".join(logging.Formatter().formatException(exc_info))
            line["error"] = text.splitlines()[-1]
            line["traceback"] = text
        if (ids := tracing.current_ids()) is not None:
            line["trace_id"], line["span_id"] = ids
        return line

    return shape


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    def __init__(self, service: str):
        self.service = service
        # keep_exc_info off: the traceback goes into the JSON line (_shape), not after it as plain text.
        super().__init__(processors=[_shape(service), structlog.processors.JSONRenderer(default=str)],
                         keep_exc_info=False, keep_stack_info=False, use_get_message=True)


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel("WARNING")
    structlog.configure(
        processors=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(), wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True)
