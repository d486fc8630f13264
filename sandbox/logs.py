"""What `serve` says on its console: the access log (`--access-log`, one line per provider
request and per control call that may change the world) and the format of every line
(`--log-format text|json`).

Access lines are written where the world is (the serving process, also under `serve --workers
N`), so they are complete and in order; uvicorn's own lines (an injected abort, in one line)
come from the process that served the connection, in the same format.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
import time
from datetime import UTC, datetime

LOG_FORMATS = ("text", "json")
ACCESS = logging.getLogger("domainsandbox.access")
# The fields of an access line, as a JSON line carries them.
_ACCESS_FIELDS = ("provider", "operation", "method", "path", "status", "duration_ms", "domain_id")
# Characters a terminal acts on rather than shows (C0, DEL, C1: ESC begins an escape sequence),
# and the invisible ones that change what is shown around them: bidirectional overrides and
# isolates (U+202E shows "lla~ moc.nuglam" for "malgun.com ~all"), zero-width characters, line
# and paragraph separators, the byte order mark.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


# A call an injected fault dropped: in place of its status wherever one is said or matched.
ABORTED = "aborted"


def status_said(entry: dict):
    """A journal entry's status, or ABORTED when an injected fault dropped the connection: no
    status reached the client, whatever the sandbox answered."""
    return ABORTED if entry.get("aborted") else entry.get("status")


def printable(text: str) -> str:
    """`text` safe to print on a terminal: each control or invisible formatting character
    written as its escape (`\\x1b`, `\\u202e`), so that a client's text cannot colour, move
    or clear the screen of whoever reads the journal, the report or the log, nor show itself
    reversed."""
    return _UNPRINTABLE.sub(lambda c: c.group().encode("unicode_escape").decode(), text)


def access_line(entry: dict) -> None:
    """Log one finished request (a provider's, or a control call's under the provider name
    "control"): provider, operationId, status, milliseconds."""
    fields = {k: entry.get(k) for k in _ACCESS_FIELDS}
    if entry.get("aborted"):  # no status reached the client: an injected fault dropped it
        fields["aborted"] = True
    if entry.get("fault"):  # the injected fault that answered, delayed or dropped it
        fields["fault"] = entry["fault"]
    ACCESS.info(
        "%s %s %s %sms %s %s",
        fields["provider"] or "-",
        fields["operation"] or "-",
        status_said(entry),
        fields["duration_ms"],
        fields["method"],
        printable(str(fields["path"])),
        extra={"access": fields},
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and an access line's
    fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= getattr(record, "access", {})
        if record.exc_info:  # a bug's traceback stays in one line too
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def console(text: str, log_format: str = "text", error: bool = False) -> None:
    """A line `serve` says itself (its banner, a note, why it stops), on stdout (stderr if an
    `error`): with "json", a JSON object as every logged line is, so that a log shipper reading
    the console reads them all."""
    stream = sys.stderr if error else sys.stdout
    if log_format == "json":
        level = "ERROR" if error else "INFO"
        line = {"time": _utc(time.time()), "level": level, "logger": "domainsandbox"}
        text = json.dumps(line | {"message": text}, ensure_ascii=False)
    print(text, file=stream, flush=True)


def _utc(created: float) -> str:
    instant = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    return instant.replace("+00:00", "Z")


def configure(log_format: str = "text", access_log: bool = False) -> None:
    """Set up `serve`'s console in this process: the access log on stdout if asked for; with
    "json", every other line (on stderr, the libraries' own among them) as JSON too."""
    if log_format == "json":
        _handle(logging.getLogger(), sys.stderr, log_format)
    if access_log:
        _handle(ACCESS, sys.stdout, log_format)
        ACCESS.setLevel(logging.INFO)


def _handle(logger: logging.Logger, stream, log_format: str) -> None:
    """`logger`'s lines to `stream` only (once, however often `serve` starts in a process)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_formatter(log_format, "%(message)s"))
    logger.handlers = [handler]
    logger.propagate = False


def _formatter(log_format: str, text: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(text)


class CutOffAtStop(logging.Filter):
    """uvicorn says at ERROR that it cancelled requests still running when a stop's grace
    period ended: that is the documented stop (each is answered 503), a warning, said so."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Cancel %s running task(s)"):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = (
                "stopping: %s request(s) still running when the grace period ended, answered 503"
            )
        return True


def uvicorn_log_config(log_format: str) -> dict:
    """uvicorn's logging configuration, its lines in `log_format`."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["cut_off_at_stop"] = {"()": "sandbox.logs.CutOffAtStop"}
    config["loggers"]["uvicorn.error"]["filters"] = ["cut_off_at_stop"]
    if log_format == "json":
        for formatter in config["formatters"].values():
            formatter.clear()
            formatter["()"] = "sandbox.logs.JsonFormatter"
    return config
