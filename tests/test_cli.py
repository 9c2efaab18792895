"""`bidcart run` as a person starts it: a real process, a real port, a data folder of its own."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
import websockets

from tests.livesrv import free_port

BIDCART = [sys.executable, "-m", "bidcart.cli"]


def start(data_dir, port, extra_env=None, args=()):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BIDCART_ADMIN_PATH", "DEBUG")
    }
    env.update({"BIDCART_DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(port), **(extra_env or {})})
    proc = subprocess.Popen(
        BIDCART + ["run", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
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


def websocket_message_answers(base, size) -> str | int:
    """Send a text message of `size` bytes on /ws/ping/: the error code the server answers, or the code it
    closes the connection with."""

    async def go():
        async with websockets.connect(base.replace("http", "ws", 1) + "/ws/ping/", origin=base) as ws:
            await ws.send("x" * size)
            try:
                return json.loads(await asyncio.wait_for(ws.recv(), 5))["code"]
            except websockets.ConnectionClosed:
                return ws.close_code

    return asyncio.run(go())


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
        token = httpx.post(
            base + "/api/v1/auth/token/", json={"email": "buyer@example.com", "password": "bidcart-demo"}
        )
        assert token.status_code == 200, token.text
        me = httpx.get(base + "/api/v1/me/", headers={"Authorization": f"Bearer {token.json()['access']}"})
        assert me.json()["email"] == "buyer@example.com"
        # The payment simulator is mounted on the same port.
        imp = httpx.post(
            base + "/pgsim/iamport/users/getToken",
            json={"imp_key": "bidcart-imp-key", "imp_secret": "bidcart-imp-secret"},
        )
        assert imp.status_code == 200 and imp.json()["code"] == 0
        # A user changes the demo data.
        changed = httpx.patch(
            base + "/api/v1/me/",
            json={"display_name": "바뀐 이름"},
            headers={"Authorization": f"Bearer {token.json()['access']}"},
        )
        assert changed.status_code == 200
        # uvicorn's WebSocket message limit is WS_MAX_MESSAGE_BYTES (64 KiB), not its own 16 MiB.
        assert websocket_message_answers(base, 64 * 1024) == "invalid_message"
        assert websocket_message_answers(base, 64 * 1024 + 1) == 1009
    finally:
        first_output = stop(proc)

    for line in (
        "http://127.0.0.1:%d/" % port,
        "/api/docs/",
        "admin@example.com",
        "seller@example.com",
        "buyer@example.com",
        "buyer2@example.com",
        "bidcart-demo",
    ):
        assert line in first_output
    admin_path = (tmp_path / "admin_path").read_text().strip()
    assert admin_path in first_output
    assert (tmp_path / "bidcart.sqlite3").exists() and (tmp_path / "secret_key").exists()

    proc, base = start(tmp_path, port)
    try:
        token = httpx.post(
            base + "/api/v1/auth/token/", json={"email": "buyer@example.com", "password": "bidcart-demo"}
        )
        me = httpx.get(base + "/api/v1/me/", headers={"Authorization": f"Bearer {token.json()['access']}"})
        assert me.json()["display_name"] == "바뀐 이름"  # the second start seeded nothing over it
        assert httpx.get(f"{base}/{admin_path}/").status_code == 302  # same secret admin path: to its login
    finally:
        second_output = stop(proc)
    assert "Demo data already present." in second_output


# --- bidcart serve: the production entry ------------------------------------------------------------

GOOD_SECRET = "k3J9-vQx_2mZ8pLr5TnW7yB4cHd6fGs1aEo0uIiKjMlNbVcXzQwErTyUiOpAsDfGh"


def serve_env(data_dir, **extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            "WEB_CONCURRENCY",
            "PROMETHEUS_MULTIPROC_DIR",
            "LOG_FORMAT",
            "PGSIM_MOUNT",
        )
    }
    env.update({"BIDCART_DATA_DIR": str(data_dir), "BIDCART_ADMIN_PATH": "staff-admin", **extra})
    return env


# A production configuration: every offered provider real (the checks never call them).
REAL_PAYPAL = {
    "PAYMENT_PROVIDERS": "paypal",
    "PAYPAL_BASE_URL": "https://api-m.paypal.com",
    "PAYPAL_CLIENT_ID": "paypal-client",
    "PAYPAL_CLIENT_SECRET": "paypal-secret",
    "PAYPAL_WEBHOOK_ID": "8PT597110X687430LKGECATA",
}


def test_serve_refuses_an_unsafe_configuration_and_says_what_to_set(tmp_path):
    result = subprocess.run(
        BIDCART + ["serve", "--workers", "2"],
        env=serve_env(tmp_path, SECRET_KEY="changeme"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    err = result.stderr
    assert "refusing to start with an unsafe configuration" in err
    assert "SECRET_KEY is a known default" in err and "Set SECRET_KEY" in err
    assert "ALLOWED_HOSTS is not set" in err
    assert "SQLite has one writer at a time" in err and "Set DATABASE_URL=postgres://" in err
    assert "in-memory channel layer" in err and "Set REDIS_URL=" in err
    assert not (tmp_path / "bidcart.sqlite3").exists()  # refused before touching anything


def test_serve_refuses_debug_on_a_public_host(tmp_path):
    env = serve_env(tmp_path, SECRET_KEY=GOOD_SECRET, DEBUG="1", ALLOWED_HOSTS="shop.example.com")
    result = subprocess.run(BIDCART + ["serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "DEBUG is on while ALLOWED_HOSTS has public hosts (shop.example.com)" in result.stderr


def test_serve_check_accepts_a_safe_configuration(tmp_path):
    env = serve_env(tmp_path, SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="shop.example.com", **REAL_PAYPAL)
    result = subprocess.run(BIDCART + ["serve", "--check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "safe to serve with 1 worker" in result.stdout


def test_serve_refuses_a_rate_limit_it_cannot_read(tmp_path):
    env = serve_env(
        tmp_path, SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="shop.example.com", RATE_LIMIT_BID="ten a second", **REAL_PAYPAL
    )
    for argv in (["serve", "--check"], ["serve", "--port", str(free_port())]):
        result = subprocess.run(BIDCART + argv, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "RATE_LIMIT_BID" in result.stderr and "10/s,120/min" in result.stderr  # what is wrong, and an example


def test_serve_migrates_collects_static_files_and_serves_with_debug_off(tmp_path):
    port = free_port()
    env = serve_env(
        tmp_path,
        SECRET_KEY=GOOD_SECRET,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_COOKIES="0",
        WS_MAX_MESSAGE_BYTES="4096",
        DATA_UPLOAD_MAX_MEMORY_SIZE="1000",
        **REAL_PAYPAL,
    )
    proc = subprocess.Popen(
        BIDCART + ["serve", "--migrate", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "bidcart serve did not come up in 90 s"
            time.sleep(0.3)
        assert httpx.get(base + "/products/", headers={"X-Request-ID": "lb-4f2a9c"}).status_code == 200  # migrated
        # Static files come from collectstatic's folder through whitenoise, compressed when asked.
        assert (tmp_path / "static" / "admin" / "css" / "base.css").exists()
        css = httpx.get(base + "/static/admin/css/base.css", headers={"Accept-Encoding": "gzip"})
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert css.headers.get("content-encoding") == "gzip"
        # DEBUG is off: a missing page is a plain 404, not Django's debug page listing the URL patterns.
        missing = httpx.get(base + "/no-such-page/")
        assert missing.status_code == 404 and "URLconf" not in missing.text
        assert httpx.get(base + "/healthz", headers={"Host": "evil.example.com"}).status_code == 400
        # Size limits from the environment: WebSocket messages (uvicorn closes with 1009) and JSON bodies.
        assert websocket_message_answers(base, 4096) == "invalid_message"
        assert websocket_message_answers(base, 4097) == 1009
        too_big = httpx.post(base + "/api/v1/auth/signup/", json={"display_name": "x" * 2000})
        assert too_big.status_code == 413 and too_big.json()["code"] == "request_too_large"
        # no payment simulator on a production server
        assert httpx.get(base + "/pgsim/").status_code == 404
        assert httpx.post(base + "/pgsim/iamport/users/getToken", json={}).status_code in (403, 404)
    finally:
        output = stop(proc)
    assert "bidcart serve: 1 worker(s) on http://127.0.0.1:%d/" % port in output
    # One JSON line per request (LOG_FORMAT defaults to json with DEBUG off), with the proxy's request id.
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    request = next(entry for entry in lines if entry.get("request_id") == "lb-4f2a9c")
    assert request["event"] == "request" and request["route"] == "/products/" and request["status"] == 200
    assert request["method"] == "GET" and request["duration_ms"] >= 0 and request["level"] == "INFO"


def test_usage_lists_the_production_commands():
    result = subprocess.run(BIDCART, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    for command in ("serve", "worker", "beat"):
        assert f"  {command} " in result.stderr


# --- #13 item 3: `bidcart serve` takes no simulated payments --------------------------------------------


def test_serve_check_refuses_providers_without_real_credentials(tmp_path):
    # The reproduction: a real SECRET_KEY and host, no provider keys: "safe to serve" before, and an order
    # became paid by clicking Approve at /pgsim/.
    env = serve_env(tmp_path, SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="shop.example.com")
    result = subprocess.run(BIDCART + ["serve", "--check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout
    assert "[bidcart.E011]" in result.stderr and "without their real base URL" in result.stderr
    assert "safe to serve" not in result.stdout

    env = serve_env(tmp_path, SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="shop.example.com", PGSIM_MOUNT="1", **REAL_PAYPAL)
    result = subprocess.run(BIDCART + ["serve", "--check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "[bidcart.E010]" in result.stderr

    env = serve_env(
        tmp_path,
        SECRET_KEY=GOOD_SECRET,
        ALLOWED_HOSTS="shop.example.com",
        **{**REAL_PAYPAL, "PAYPAL_CLIENT_SECRET": ""},
    )
    result = subprocess.run(BIDCART + ["serve", "--check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "[bidcart.E012]" in result.stderr and "PAYPAL_CLIENT_SECRET" in result.stderr


def test_serve_check_with_acknowledged_simulated_payments_says_so_loudly(tmp_path):
    env = serve_env(
        tmp_path,
        SECRET_KEY=GOOD_SECRET,
        ALLOWED_HOSTS="demo.example.com",
        PGSIM_MOUNT="1",
        PGSIM_ACKNOWLEDGE="payments-are-simulated",
    )
    result = subprocess.run(BIDCART + ["serve", "--check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "WARNING: PAYMENTS ARE SIMULATED" in result.stderr and "no money moves" in result.stderr


def test_manage_check_deploy_refuses_the_same(tmp_path):
    env = serve_env(tmp_path, SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="shop.example.com")
    result = subprocess.run(
        BIDCART + ["manage", "check", "--deploy", "--fail-level", "ERROR"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "bidcart.E011" in result.stderr


# --- #16 item 3 and #13 item 14: `bidcart manage` on the folder `make run` made; private files -------------


def manage_env(data_dir, **extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "BIDCART_ADMIN_PATH",
            "DEBUG",
            "ALLOWED_HOSTS",
            "PGSIM_MOUNT",
            "LOG_FORMAT",
        )
    }
    env.update({"BIDCART_DATA_DIR": str(data_dir), **extra})
    return env


def test_manage_works_on_the_data_folder_bidcart_run_made_and_every_generated_file_is_private(tmp_path):
    port = free_port()
    proc, base = start(tmp_path, port)
    stop(proc)
    secret = (tmp_path / "secret_key").read_text()

    # the README's example, with nothing else set: the same key and the same database
    result = subprocess.run(
        BIDCART + ["manage", "createsuperuser", "--noinput", "--email", "boss@example.com", "--display_name", "Boss"],
        env=manage_env(tmp_path, DJANGO_SUPERUSER_PASSWORD="a-long-boss-password"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "secret_key").read_text() == secret
    proc, base = start(tmp_path, port)
    try:
        token = httpx.post(
            base + "/api/v1/auth/token/", json={"email": "boss@example.com", "password": "a-long-boss-password"}
        )
        assert token.status_code == 200, token.text
    finally:
        stop(proc)
    for name in ("secret_key", "admin_path", "bidcart.sqlite3", "pgsim_webhook_secret"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name


def test_manage_stays_strict_when_a_production_configuration_is_present(tmp_path):
    (tmp_path / "secret_key").write_text("k" * 60)  # a folder `bidcart run` once used
    result = subprocess.run(
        BIDCART + ["manage", "check"],
        env=manage_env(tmp_path, ALLOWED_HOSTS="shop.example.com"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_importing_settings_writes_nothing_and_changes_no_environment_variable(tmp_path):
    # #18 item 4: files and folders are made by the commands that start bidcart and by the simulator mount
    code = (
        "import json, os; before = dict(os.environ); import bidcart.settings; "
        "print(json.dumps(sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))))"
    )
    (tmp_path / "empty").mkdir()
    for data_dir in (tmp_path / "empty", tmp_path / "new"):
        env = manage_env(
            data_dir, SECRET_KEY=GOOD_SECRET, DEBUG="1", PGSIM_MOUNT="1", DJANGO_SETTINGS_MODULE="bidcart.settings"
        )  # as Django needs it to find settings
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "[]"
    assert list((tmp_path / "empty").iterdir()) == []
    assert not (tmp_path / "new").exists()


def test_starting_django_writes_nothing_into_the_data_folder(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'bidcart.settings'; django.setup(); "
        "print(sorted(k for k in os.environ if k.startswith('PGSIM_')))"
    )
    (tmp_path / "data").mkdir()
    env = manage_env(tmp_path / "data", SECRET_KEY=GOOD_SECRET, PGSIM_MOUNT="1")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "data").iterdir()) == []
    assert "PGSIM_PORTONE_WEBHOOK_SECRET" not in result.stdout and "PGSIM_PAYPAL_WEBHOOK_URL" not in result.stdout


def test_bidcart_run_makes_the_data_folder_with_private_generated_files_and_reuses_them(tmp_path):
    data_dir = tmp_path / "new" / "data"  # not there yet
    proc, base = start(data_dir, free_port(), args=["--no-seed"])
    stop(proc)
    made = {name: (data_dir / name).read_text() for name in ("secret_key", "admin_path")}
    for name in ("secret_key", "admin_path", "bidcart.sqlite3"):
        assert (data_dir / name).stat().st_mode & 0o777 == 0o600, name
    assert (data_dir / "static").is_dir()
    proc, base = start(data_dir, free_port(), args=["--no-seed"])
    stop(proc)
    assert {name: (data_dir / name).read_text() for name in made} == made


def test_serve_names_a_malformed_web_concurrency(tmp_path):
    result = subprocess.run(
        BIDCART + ["serve", "--check"],
        env=manage_env(tmp_path, WEB_CONCURRENCY="four"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "WEB_CONCURRENCY must be a whole number" in result.stderr


def test_auction_defaults_have_one_home(tmp_path):
    # #18 item 4: editing a default in auctions/conf.py changes what settings hold (it did nothing before)
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'bidcart.settings'; "
        "from bidcart.auctions import conf; conf.DEFAULTS['AUCTION_PAYMENT_HOURS'] = 7; "
        "conf.DEFAULTS['AUCTION_EMAIL_NOTICES'] = ['outbid']; django.setup(); "
        "from django.conf import settings; print(settings.AUCTION_PAYMENT_HOURS, settings.AUCTION_EMAIL_NOTICES)"
    )
    env = manage_env(tmp_path, SECRET_KEY=GOOD_SECRET)
    env.pop("AUCTION_PAYMENT_HOURS", None)
    env.pop("AUCTION_EMAIL_NOTICES", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "7 ['outbid']"


def test_bidcart_run_takes_the_client_address_from_the_connection_not_from_x_forwarded_for(tmp_path):
    # uvicorn by default believes X-Forwarded-For from 127.0.0.1: any local client could pose as any address
    # and slip past the login lockout, the rate limits and the honeypot. NUM_PROXIES is 0 here: no proxy.
    proc, base = start(tmp_path, free_port(), args=["--no-seed"])
    try:
        for i in range(5):
            answer = httpx.post(
                base + "/admin/login/",
                data={"username": f"root{i}", "password": "x"},
                headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
                timeout=30,
            )
            assert answer.status_code == 200
        # five attempts from 127.0.0.1, whatever the header claimed: that address is refused on the honeypot
        assert httpx.get(base + "/admin/", headers={"X-Forwarded-For": "203.0.113.77"}, timeout=30).status_code == 403
        assert httpx.get(base + "/healthz", timeout=30).status_code == 200
    finally:
        stop(proc)


def test_bidcart_run_hides_the_url_list_and_query_string_secrets(tmp_path):
    proc, base = start(tmp_path, free_port(), args=["--no-seed"])
    try:
        admin_path = (tmp_path / "admin_path").read_text().strip().strip("/")
        missing = httpx.get(base + "/no-such-page/", timeout=30)
        assert missing.status_code == 404
        # DEBUG is on under `bidcart run`; its technical 404 page listed every URL pattern, the secret admin's too
        assert admin_path not in missing.text and "URLconf" not in missing.text
        product = httpx.get(base + "/products/no-such-product/", timeout=30)  # a view's 404
        assert product.status_code == 404 and admin_path not in product.text
        # KakaoPay's approval return carries pg_token: it must not reach the access log
        httpx.get(base + "/payments/return/no-such-payment/?pg_token=a1b2c3d4e5f6secret&x=1", timeout=30)
    finally:
        out = stop(proc)
    assert "pg_token=[redacted]&x=1" in out
    assert "a1b2c3d4e5f6secret" not in out
