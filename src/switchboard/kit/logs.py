"""Logging: one line per event, JSON for machines (or readable on a terminal), every line of a
request carrying its request id, and no secret in any line: a WebSocket's ?token= or a bearer
token never reaches a log."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

_TOKEN = re.compile(r"(token=)[^&\s\"']+")
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact(text: str) -> str:
    if "token=" not in text and "bearer" not in text.lower():
        return text  # the common case, without running the expressions
    return _BEARER.sub(r"\1[redacted]", _TOKEN.sub(r"\1[redacted]", text))


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


def install_redaction() -> None:
    for name in ("uvicorn.error", "uvicorn.access", "uvicorn", ""):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def redact_event(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The structlog side of the same rule, over every string of a line (tracebacks too)."""
    event_dict.pop("color_message", None)  # uvicorn's terminal copy of the message
    for key, value in event_dict.items():
        event_dict[key] = _redact_value(value)
    return event_dict


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_configured: tuple[str, str] | None = None


def wants_json(log_format: str) -> bool:
    return log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())


def configure_logging(log_format: str = "auto", level: str = "INFO") -> None:
    """structlog and the standard library (uvicorn, alembic) through one formatter on stderr.

    Idempotent: an application built again in the same process (the tests) keeps one handler.
    """
    global _configured
    if _configured == (log_format, level):
        return
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor
    if wants_json(log_format):
        renderer = structlog.processors.JSONRenderer()
        # Tracebacks as data, without frame locals: locals hold headers, tokens, message text.
        shared.append(
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        )
    else:
        renderer = structlog.dev.ConsoleRenderer()
    shared.append(redact_event)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    handler.addFilter(RedactTokens())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own loggers hand their lines to the root handler above.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    install_redaction()
    _configured = (log_format, level)
    global _direct_access
    _direct_access = wants_json(log_format) and root.isEnabledFor(logging.INFO)


# The access line of every request, the one line the busiest requests write: as JSON it is
# written straight to stderr in the shape the pipeline above gives (the pipeline — a stdlib
# record, a handler, the processors — costs more than the message fast path itself).
_access_log = structlog.get_logger("switchboard.access")
_direct_access = False


def log_access(event: str, **fields: Any) -> None:
    """One access line: `fields` are plain values; the request id is passed, not bound."""
    if not _direct_access:
        _access_log.info(event, **fields)
        return
    fields["event"] = event
    fields["logger"] = "switchboard.access"
    fields["level"] = "info"
    fields["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    sys.stderr.write(json.dumps(_redact_value(fields)) + "\n")
