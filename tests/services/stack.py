"""The production topology in tests: scripts/services-up on free ports with a folder of its own, one service
restarted or killed, Django code run against the stack's database, and private PostgreSQL and Redis servers
that a fault test may stop (the machine's shared servers are never touched)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.livesrv import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("web1", "web2", "worker", "beat", "pgsim")


@dataclass
class Stack:
    env: dict
    dir: Path
    up: subprocess.CompletedProcess
    web1: str
    web2: str

    def pid(self, name: str) -> int:
        return int((self.dir / f"{name}.pid").read_text())

    def restart(self, *names: str) -> subprocess.CompletedProcess:
        """Start these services again in the running stack (scripts/services-up --only)."""
        return subprocess.run(
            [str(ROOT / "scripts" / "services-up"), "--only", ",".join(names)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def down(self, *names: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "scripts" / "services-down"), *names], env=self.env, capture_output=True, text=True, timeout=60
        )

    def kill(self, name: str) -> None:
        """SIGKILL the service's whole process group (a crash: no cleanup, no goodbye to clients)."""
        pgid = self.pid(name)
        os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while group_members(pgid):
            assert time.monotonic() < deadline, f"{name}'s processes outlived SIGKILL"
            time.sleep(0.05)

    def django(self, function: str, *args):
        """Call `function` ("module:name", e.g. from tests.services.faultdata) in a fresh process set up like
        the stack's (its database, Redis and secret key: sessions and tokens made there are valid on the
        web servers); its JSON-able result comes back."""
        env = {
            **self.env,
            "DATABASE_URL": self.env["STACK_DATABASE_URL"],
            "REDIS_URL": self.env["STACK_REDIS_URL"],
            "SECRET_KEY": (self.dir / "secret_key").read_text().strip(),
            "BIDCART_DATA_DIR": str(self.dir / "data"),
            "DEBUG": "0",
            "PGSIM_MOUNT": "0",
            "DJANGO_SETTINGS_MODULE": "bidcart.settings",
        }
        module, name = function.split(":")
        code = (
            "import django, json, sys; django.setup(); from %s import %s as f; "
            "print(json.dumps(f(*json.loads(sys.argv[1]))))" % (module, name)
        )
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(args)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


def start_stack(stack_dir: Path, database_url: str, redis_url: str, **extra: str) -> Stack:
    """scripts/services-up on free ports; the caller checks `up.returncode` and calls `down()` at the end."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL")}
    env.update(
        {
            "STACK_DIR": str(stack_dir),
            "WEB1_PORT": str(free_port()),
            "WEB2_PORT": str(free_port()),
            "PGSIM_PORT": str(free_port()),
            "WORKER_METRICS_PORT": str(free_port()),
            "STACK_DATABASE_URL": database_url,
            "STACK_REDIS_URL": redis_url,
            **extra,
        }
    )
    up = subprocess.run([str(ROOT / "scripts" / "services-up")], env=env, capture_output=True, text=True, timeout=180)
    return Stack(
        env=env,
        dir=stack_dir,
        up=up,
        web1=f"http://127.0.0.1:{env['WEB1_PORT']}",
        web2=f"http://127.0.0.1:{env['WEB2_PORT']}",
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def group_members(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    found.append(int(entry.name))
            except ProcessLookupError:
                continue
    return found


def scrape(url) -> dict:
    samples = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def wait_until(check, timeout: float, what: str, every: float = 0.2):
    """Poll `check()` until it returns something truthy (returned); fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (httpx.HTTPError, OSError):
            result = None
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} (waited {timeout} s)"
        time.sleep(every)


# --- private servers a test may break ---------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of our own on a free port, nothing on disk: `kill()` loses everything, as a crash would."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    str(self.folder),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_until(lambda: self._ping(client), 10, "the private Redis did not start")

    @staticmethod
    def _ping(client) -> bool:
        import redis

        try:
            return client.ping()
        except redis.RedisError:
            return False

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.running:
            self.proc.kill()
            self.proc.wait(10)


def _postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return versions[-1].parent


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb in a temporary folder, a free port, no fsync) that a test may
    stop and start. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user."""

    def __init__(self):
        self.bin = _postgres_bin()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="bidcart-pg-"))
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        self.running = False

    def _ctl(self, *args: str) -> None:
        done = subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {args[-1]} failed: {done.stdout}{done.stderr}")

    def init(self) -> None:
        done = subprocess.run(
            [
                *self.as_user,
                str(self.bin / "initdb"),
                "-D",
                str(self.folder / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._ctl("-l", str(self.folder / "server.log"), "-o", options, "-w", "start")
        self.running = True

    def stop(self) -> None:
        """A fast shutdown: open sessions are disconnected, as in a restart or a failover."""
        self._ctl("-m", "fast", "-w", "stop")
        self.running = False

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        if self.running:
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
