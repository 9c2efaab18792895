import threading
from datetime import timedelta

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from bidcart.core import jobs


def test_sweeps_are_discovered_from_the_apps_tasks_modules():
    names = {s.name for s in jobs.registered()}
    assert "bidcart.core.tasks.purge_expired_sessions" in names
    assert "bidcart.accounts.tasks.purge_stale_phone_codes" in names


def test_a_sweep_runs_once_per_interval_however_often_tick_is_called(monkeypatch):
    calls = []
    monkeypatch.setattr(jobs, "_registry", {})
    jobs.sweep(every=60, name="count")(lambda: calls.append(1))
    assert jobs.tick() == ["count"]
    assert jobs.tick() == []
    assert calls == [1]


def test_a_failing_sweep_does_not_stop_the_others(monkeypatch):
    ran = []
    monkeypatch.setattr(jobs, "_registry", {})

    def broken():
        raise RuntimeError("boom")

    jobs.sweep(every=60, name="broken")(broken)
    jobs.sweep(every=60, name="fine")(lambda: ran.append("fine"))
    assert jobs.tick() == ["broken", "fine"]
    assert ran == ["fine"]


def test_tick_writes_the_heartbeat_that_healthz_reads():
    assert jobs.heartbeat() is None
    jobs.tick()
    assert abs((timezone.now() - jobs.heartbeat()).total_seconds()) < 5


def test_the_in_process_loop_ticks_every_interval(monkeypatch):
    seen = threading.Event()
    monkeypatch.setattr(jobs, "_registry", {})
    jobs.sweep(every=1, name="signal")(seen.set)
    loop = jobs.JobLoop(interval=0.05)
    loop.start()
    try:
        assert seen.wait(5), "the loop never ran the sweep"
    finally:
        loop.stop()
        loop.join(5)
    assert not loop.is_alive()


def test_purge_expired_sessions_removes_only_expired_ones(db):
    live, dead = SessionStore(), SessionStore()
    live.create()
    dead.create()
    Session.objects.filter(session_key=dead.session_key).update(expire_date=timezone.now() - timedelta(days=1))
    from bidcart.core.tasks import purge_expired_sessions

    purge_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
