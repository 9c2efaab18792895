"""`bidcart run` as a person starts it: a real process, a real port, a data folder of its own."""

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.livesrv import free_port

BIDCART = [sys.executable, "-m", "bidcart.cli"]


def start(data_dir, port, extra_env=None):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BIDCART_ADMIN_PATH", "DEBUG")}
    env.update({"BIDCART_DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(port), **(extra_env or {})})
    proc = subprocess.Popen(BIDCART + ["run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "bidcart run did not come up in 60 s"
        time.sleep(0.3)


def stop(proc) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def wait_healthy(base):
    for _ in range(50):
        body = httpx.get(base + "/healthz").json()
        if body["status"] == "ok":
            return body
        time.sleep(0.1)
    return body


@pytest.mark.e2e
def test_bidcart_run_serves_everything_on_one_port_and_keeps_data_across_restarts(tmp_path):
    port = free_port()
    proc, base = start(tmp_path, port)
    try:
        health = wait_healthy(base)
        assert health["status"] == "ok", health  # database, cache, channel layer and the job loop
        assert health["checks"]["jobs"]["mode"] == "inprocess"
        assert httpx.get(base + "/").status_code == 200
        assert httpx.get(base + "/api/docs/").status_code == 200
        assert httpx.get(base + "/api/schema/").status_code == 200
        token = httpx.post(base + "/api/v1/auth/token/", json={"email": "buyer@example.com", "password": "bidcart-demo"})
        assert token.status_code == 200, token.text
        me = httpx.get(base + "/api/v1/me/", headers={"Authorization": f"Bearer {token.json()['access']}"})
        assert me.json()["email"] == "buyer@example.com"
        # The payment simulator is mounted on the same port.
        imp = httpx.post(base + "/pgsim/iamport/users/getToken", json={"imp_key": "bidcart-imp-key", "imp_secret": "bidcart-imp-secret"})
        assert imp.status_code == 200 and imp.json()["code"] == 0
        # A user changes the demo data.
        changed = httpx.patch(base + "/api/v1/me/", json={"display_name": "바뀐 이름"},
                              headers={"Authorization": f"Bearer {token.json()['access']}"})
        assert changed.status_code == 200
    finally:
        first_output = stop(proc)

    for line in ("http://127.0.0.1:%d/" % port, "/api/docs/", "admin@example.com", "seller@example.com",
                 "buyer@example.com", "buyer2@example.com", "bidcart-demo"):
        assert line in first_output
    admin_path = (tmp_path / "admin_path").read_text().strip()
    assert admin_path in first_output
    assert (tmp_path / "bidcart.sqlite3").exists() and (tmp_path / "secret_key").exists()

    proc, base = start(tmp_path, port)
    try:
        token = httpx.post(base + "/api/v1/auth/token/", json={"email": "buyer@example.com", "password": "bidcart-demo"})
        me = httpx.get(base + "/api/v1/me/", headers={"Authorization": f"Bearer {token.json()['access']}"})
        assert me.json()["display_name"] == "바뀐 이름"  # the second start seeded nothing over it
        assert httpx.get(f"{base}/{admin_path}/").status_code == 302  # same secret admin path: to its login
    finally:
        second_output = stop(proc)
    assert "Demo data already present." in second_output
