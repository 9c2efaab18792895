"""Scheduled work as idempotent sweeps.

An app declares a sweep in its `tasks.py` with `@sweep(every=...)`. `tick()` runs the sweeps that are
due; it is called every second by the in-process loop (`bidcart run`, embedded default) or by Celery
beat through the `bidcart.tick` task (at scale). A cache `add` makes each sweep run at most once per
interval across every process; sweeps themselves must still be safe to run twice at once.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from django.apps import apps
from django.core.cache import cache
from django.db import close_old_connections

from . import metrics

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "bidcart:jobs:heartbeat"
TICK_SECONDS = 1.0


@dataclass(frozen=True)
class Sweep:
    name: str
    func: Callable[[], object]
    every: timedelta

    def due_key(self) -> str:
        return f"bidcart:jobs:due:{self.name}"


_registry: dict[str, Sweep] = {}


def sweep(*, every: timedelta | int | float, name: str | None = None):
    """Register a function as a sweep that runs every `every` (seconds or a timedelta)."""
    interval = every if isinstance(every, timedelta) else timedelta(seconds=every)

    def register(func):
        key = name or f"{func.__module__}.{func.__qualname__}"
        _registry[key] = Sweep(key, func, interval)
        return func

    return register


def registered() -> list[Sweep]:
    return list(_registry.values())


def autodiscover() -> None:
    """Import each installed app's `tasks` module so its sweeps register."""
    for config in apps.get_app_configs():
        try:
            importlib.import_module(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.tasks":
                raise


def run_sweep(item: Sweep) -> bool:
    started = time.time()
    try:
        item.func()
        ok = True
    except Exception:  # one broken sweep must not stop the others
        log.exception("sweep %s failed", item.name)
        ok = False
    metrics.sweep_ran(item, ok=ok, started=started)  # counts, lag, one log line
    return ok


def tick() -> list[str]:
    """Run every due sweep once; return the names of those that ran."""
    ran = []
    for item in registered():
        if cache.add(item.due_key(), 1, timeout=max(1, int(item.every.total_seconds()))):
            run_sweep(item)
            ran.append(item.name)
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)
    return ran


def heartbeat() -> datetime | None:
    value = cache.get(HEARTBEAT_KEY)
    return datetime.fromtimestamp(value, tz=timezone.utc) if value else None


class JobLoop(threading.Thread):
    """The in-process scheduler of the embedded default: calls `tick()` every second."""

    def __init__(self, interval: float = TICK_SECONDS):
        super().__init__(name="bidcart-jobs", daemon=True)
        self.interval = interval
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            close_old_connections()
            try:
                tick()
            except Exception:
                log.exception("job loop tick failed")
            finally:
                close_old_connections()
            self._stopping.wait(self.interval)

    def stop(self) -> None:
        self._stopping.set()
