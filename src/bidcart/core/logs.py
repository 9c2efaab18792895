"""Structured logs: one JSON object per line when LOG_FORMAT=json (the default with DEBUG off).

Every line written while a request is being answered carries its `request_id` (and `merchant_uid` /
`lot_id` when the URL names one): `RequestContextFilter` reads them from context variables that
`RequestObserverMiddleware` sets. Fields passed with `extra={...}` become top-level keys.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import datetime, timezone

request_id = contextvars.ContextVar("bidcart_request_id", default=None)
merchant_uid = contextvars.ContextVar("bidcart_merchant_uid", default=None)
lot_id = contextvars.ContextVar("bidcart_lot_id", default=None)
CONTEXT = {"request_id": request_id, "merchant_uid": merchant_uid, "lot_id": lot_id}

_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime"}


class RequestContextFilter(logging.Filter):
    """Adds the current request's id (and merchant_uid / lot_id) to every record that lacks them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in CONTEXT.items():
            if getattr(record, name, None) is None:
                value = var.get()
                if value is not None:
                    setattr(record, name, value)
        return True


# Query parameters whose values are credentials: KakaoPay's approval return carries `pg_token` (with the
# tid it approves a payment), and WebSocket or API clients may pass a `token`/`ticket`.
SECRET_QUERY_PARAMS = ("pg_token", "token", "access_token", "refresh_token", "ticket", "password", "secret")
_SECRET_QUERY = re.compile(r"([?&](?:%s)=)[^&#\s]*" % "|".join(SECRET_QUERY_PARAMS), re.IGNORECASE)
REDACTED = "[redacted]"


def redact_query(path: str) -> str:
    """`/payments/kakaopay/approve?pg_token=abc&x=1` → `/payments/kakaopay/approve?pg_token=[redacted]&x=1`."""
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, path)


class RedactSecretsFilter(logging.Filter):
    """On the server's access log (`uvicorn.access`: client, method, path with query, version, status): no
    credential from a query string reaches a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", ...extra fields..., "exc"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For people at a console: the message, and the request id when there is one."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{line} [{rid}]" if rid else line


def uvicorn_log_config() -> dict:
    """uvicorn's own console logging (`bidcart run`) with query-string secrets hidden from its access log.
    (`bidcart serve` leaves uvicorn's records to settings.LOGGING, whose handler redacts them too.)"""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": "bidcart.core.logs.RedactSecretsFilter"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_secrets")
    return config


def logging_config(*, log_format: str, level: str) -> dict:
    """settings.LOGGING for the chosen format."""
    as_json = log_format == "json"
    events = "INFO" if as_json else "WARNING"  # per-request and per-sweep lines: JSON logs only
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_context": {"()": "bidcart.core.logs.RequestContextFilter"},
            "redact_secrets": {"()": "bidcart.core.logs.RedactSecretsFilter"},
        },
        "formatters": {
            "json": {"()": "bidcart.core.logs.JsonFormatter"},
            "text": {"()": "bidcart.core.logs.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if as_json else "text",
                "filters": ["request_context", "redact_secrets"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # the middleware writes a richer line per request; Django's own "Not Found: /x" would repeat it
            "django.request": {"level": "ERROR" if as_json else "WARNING"},
            "bidcart.request": {"level": events},
            "bidcart.sweeps": {"level": events},
            # one line per sweep run replaces Celery's two per tick ("received", "succeeded") and beat's one
            "celery.app.trace": {"level": "WARNING" if as_json else "INFO"},
            "celery.worker.strategy": {"level": "WARNING" if as_json else "INFO"},
            "celery.beat": {"level": "WARNING" if as_json else "INFO"},
        },
    }
