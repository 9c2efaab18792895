"""Per-request CPU cost of one page through Django's WSGI handler and through bidcart's ASGI application,
in-process (no server, no load generator), measured as process CPU time so that other load on the machine
does not inflate it.

    .venv/bin/python bench/handler_cost.py [PATH] [N]        # default: a demo product's page, 200 requests
    PROFILE=asgi TOP=60 .venv/bin/python bench/handler_cost.py   # also a cProfile (asgi or wsgi), by cumulative time

It seeds the demo shop into BIDCART_DATA_DIR (default /tmp/bidcart-handler-cost) on first use.
"""

import asyncio
import cProfile
import os
import pstats
import sys
import time
from io import BytesIO

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "handler-cost-bench-" + "x" * 40)
os.environ.setdefault("BIDCART_DATA_DIR", "/tmp/bidcart-handler-cost")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ.setdefault("LOG_FORMAT", "json")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402

call_command("migrate", interactive=False, verbosity=0)

from bidcart.catalog.models import Product  # noqa: E402

if not Product.objects.exists():
    call_command("seed_demo")

PATH = sys.argv[1] if len(sys.argv) > 1 else f"/products/{Product.objects.order_by('pk').first().slug}/"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200

wsgi = WSGIHandler()

from bidcart.asgi import application  # noqa: E402


def wsgi_once():
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": PATH,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status

    body = b"".join(wsgi(environ, start_response))
    return answer["status"], len(body)


async def asgi_once():
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 5555),
        "server": ("localhost", 80),
    }
    sent, first = [], True

    async def receive():
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected

    async def send(message):
        sent.append(message)

    await application(scope, receive, send)
    return sent[0]["status"], sum(len(m.get("body", b"")) for m in sent)


def report(name, cpu, wall):
    print(f"{name}: {cpu / N * 1000:.2f} ms CPU per request, {wall / N * 1000:.2f} ms wall ({N} requests of {PATH})")


def run_wsgi():
    for _ in range(N):
        wsgi_once()


async def run_asgi():
    for _ in range(N):
        await asgi_once()


def measure():
    print("WSGI answers", wsgi_once(), "ASGI answers", asyncio.run(asgi_once()))
    for name, run in (("wsgi", run_wsgi), ("asgi", lambda: asyncio.run(run_asgi()))):
        run()  # warm up
        cpu, wall = time.process_time(), time.perf_counter()
        run()
        report(name, time.process_time() - cpu, time.perf_counter() - wall)


def profile(which):
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    run_wsgi() if which == "wsgi" else asyncio.run(run_asgi())
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(int(os.environ.get("TOP", "60")))


if __name__ == "__main__":
    measure()
    if os.environ.get("PROFILE"):
        profile(os.environ["PROFILE"])
