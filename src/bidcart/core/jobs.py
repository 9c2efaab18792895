"""Scheduled work as idempotent sweeps.

An app declares a sweep in its `tasks.py` with `@sweep(every=...)`. `tick()` runs the sweeps that are
due; it is called every second by the in-process loop (`bidcart run`, embedded default) or by Celery
beat through the `bidcart.tick` task (at scale). A cache `add` makes each sweep run at most once per
interval across every process; sweeps themselves must still be safe to run twice at once.

Every run is recorded in the cache (shared by every process when REDIS_URL is set): counts, when, how
long, how late, and one log line. /metrics reads those figures back at scrape time (`SweepCollector`,
registered with core/metrics.py), so any web process reports the sweeps a Celery worker ran.
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
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from . import metrics

log = logging.getLogger(__name__)
sweep_log = logging.getLogger("bidcart.sweeps")  # one line per run (core/logs.py sets its level)

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
    _record(item, ok=ok, started=started)
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


# --- what each run leaves for /metrics -------------------------------------------------------------
_FIGURE_KEY = "bidcart:metrics:sweep:{}:{}"


def _record(item: Sweep, *, ok: bool, started: float) -> None:
    """Record one run of a sweep: counts, when, how long, how late; and one log line."""
    finished = time.time()
    duration = finished - started
    lag = 0.0
    try:
        previous = cache.get(_FIGURE_KEY.format(item.name, "last"))
        if previous:
            lag = max(0.0, started - (previous + item.every.total_seconds()))
        cache.set_many(
            {
                _FIGURE_KEY.format(item.name, "last"): started,
                _FIGURE_KEY.format(item.name, "duration"): duration,
                _FIGURE_KEY.format(item.name, "lag"): lag,
            },
            timeout=None,
        )
        runs = _FIGURE_KEY.format(item.name, "ok" if ok else "failed")
        cache.add(runs, 0, timeout=None)
        cache.incr(runs)
    except Exception:  # metrics never break a sweep
        log.warning("could not record sweep %s in the cache", item.name, exc_info=True)
    metrics.sweep_duration.labels(item.name).observe(duration)
    sweep_log.log(
        logging.INFO if ok else logging.ERROR,
        "sweep %s %s in %.1f ms",
        item.name,
        "ok" if ok else "failed",
        duration * 1000,
        extra={
            "event": "sweep",
            "sweep": item.name,
            "ok": ok,
            "duration_ms": round(duration * 1000, 1),
            "lag_s": round(lag, 3),
        },
    )


class SweepCollector:
    """Sweep figures from the cache, read at scrape time (they may come from another process)."""

    def describe(self):
        return []  # nothing to read when registered: the figures are read from the cache at each scrape

    def collect(self):
        runs = CounterMetricFamily(
            "bidcart_sweep_runs", "Sweep runs, by sweep and outcome (ok, failed).", labels=["sweep", "outcome"]
        )
        last = GaugeMetricFamily(
            "bidcart_sweep_last_run_timestamp_seconds", "When each sweep last started.", labels=["sweep"]
        )
        duration = GaugeMetricFamily(
            "bidcart_sweep_last_duration_seconds", "How long each sweep's last run took.", labels=["sweep"]
        )
        lag = GaugeMetricFamily(
            "bidcart_sweep_lag_seconds",
            "How late a sweep is: behind its schedule now, or how late its last run started, whichever is more.",
            labels=["sweep"],
        )
        beat = GaugeMetricFamily(
            "bidcart_jobs_heartbeat_age_seconds", "Seconds since the job loop or Celery beat last ticked."
        )
        sweeps = registered()
        keys = [
            _FIGURE_KEY.format(s.name, part) for s in sweeps for part in ("ok", "failed", "last", "duration", "lag")
        ]
        try:
            values = cache.get_many(keys + [HEARTBEAT_KEY])
        except Exception:
            log.warning("sweep metrics: the cache is unreachable", exc_info=True)
            return []
        now = time.time()
        for s in sweeps:

            def value(part):
                return values.get(_FIGURE_KEY.format(s.name, part))

            runs.add_metric([s.name, "ok"], value("ok") or 0)
            runs.add_metric([s.name, "failed"], value("failed") or 0)
            if value("last") is not None:
                last.add_metric([s.name], value("last"))
                overdue = max(0.0, now - value("last") - s.every.total_seconds())
                lag.add_metric([s.name], max(overdue, value("lag") or 0.0))
            if value("duration") is not None:
                duration.add_metric([s.name], value("duration"))
        if values.get(HEARTBEAT_KEY):
            beat.add_metric([], max(0.0, now - values[HEARTBEAT_KEY]))
        return [runs, last, duration, lag, beat]


metrics.register_shared(SweepCollector())


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
