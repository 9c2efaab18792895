"""`bidcart` command: run the whole product on one port, the payment simulator alone, or manage.py."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")
    import django

    django.setup()


def _prepare_data_dir() -> None:
    """Before Django starts: the data folder's generated files this environment needs (a SECRET_KEY only
    for DEBUG without one, the admin path without BIDCART_ADMIN_PATH, the SQLite file), all 0600."""
    from bidcart.core import datadir
    from bidcart.core.env import read

    env = read()
    datadir.prepare(
        env.data_dir,
        secret_key=env.debug and not env.secret_key,
        admin_path=not env.admin_path,
        sqlite=not env.database_url,
    )


def _embedded_defaults(site_url: str | None = None) -> None:
    """The embedded default is a developer's machine: DEBUG on unless the environment says otherwise.
    `bidcart run` and `bidcart manage` share it, so a command works on the folder `make run` made."""
    os.environ.setdefault("DEBUG", "1")
    if site_url:
        # Return and webhook URLs, and the mounted simulator's address, when no request is at hand (sweeps).
        os.environ.setdefault("SITE_URL", site_url)
    os.environ.setdefault("LOG_FORMAT", "text")  # a console for people; `bidcart serve` logs JSON lines


# Any of these says a production configuration is present: `bidcart manage` then adds nothing and
# settings stay strict (no SECRET_KEY with DEBUG off is refused).
PRODUCTION_MARKERS = ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="bidcart run", description="Migrate, seed demo data and serve everything on one port."
    )
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--no-seed", action="store_true", help="do not seed demo data")
    args = parser.parse_args(argv)

    _embedded_defaults(f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}")
    _prepare_data_dir()
    _setup_django()

    import uvicorn
    from django.conf import settings
    from django.core.management import call_command

    from bidcart.accounts.demo import DEMO_PASSWORD, DEMO_USERS
    from bidcart.core.jobs import JobLoop
    from bidcart.core.logs import uvicorn_log_config

    call_command("migrate", interactive=False, verbosity=0)
    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    if not args.no_seed:
        call_command("seed_demo")

    loop = None
    if settings.BIDCART_JOBS == "inprocess":
        loop = JobLoop()
        loop.start()

    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    base = f"http://{shown_host}:{args.port}"
    print(
        f"\n  bidcart is running at   {base}/\n"
        f"  API docs                {base}/api/docs/\n"
        f"  health                  {base}/healthz\n"
        f"  admin (real)            {base}/{settings.ADMIN_PATH}\n"
        f"  payment simulator       {base}/pgsim/\n"
        f"  jobs                    {settings.BIDCART_JOBS}\n"
        f"  database                {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
        f" (data in {settings.DATA_DIR})\n",
        flush=True,
    )
    if not args.no_seed:
        print("  demo logins (password: %s)" % DEMO_PASSWORD)
        for email, _name, _phone, staff, seller in DEMO_USERS:
            role = "staff" if staff else ("seller" if seller else "buyer")
            print(f"    {email:<22} {role}")
        print(flush=True)
    try:
        uvicorn.run(
            "bidcart.asgi:application",
            host=args.host,
            port=args.port,
            lifespan="on",
            log_level="info",
            log_config=uvicorn_log_config(),
            **server_limits(),
        )
    finally:
        if loop:
            loop.stop()
    return 0


def server_limits() -> dict:
    """uvicorn's settings that matter for safety, the same for `run`, `serve` and the tests' live server.

    - A WebSocket message over WS_MAX_MESSAGE_BYTES closes its connection with 1009 (uvicorn's default is
      16 MiB). HTTP bodies are limited inside the application (bidcart/core/bodylimit.py).
    - uvicorn does not rewrite the client address from X-Forwarded-For: by default it believes that header
      from 127.0.0.1, so any local client (or a same-host proxy that passes the header on) could pose as any
      address and slip past the login lockout, the rate limits and the honeypot. Django reads the header
      itself, for exactly NUM_PROXIES hops (bidcart/core/http.py), and the scheme from BEHIND_TLS_PROXY."""
    from django.conf import settings

    return {"ws_max_size": settings.WS_MAX_MESSAGE_BYTES, "proxy_headers": False}


def serve(argv: list[str]) -> int:
    """The production entry: refuses an unsafe configuration, then N uvicorn worker processes."""
    parser = argparse.ArgumentParser(
        prog="bidcart serve",
        description="Serve bidcart in production: several ASGI worker processes, DEBUG off, static files by "
        "whitenoise. Refuses to start with an unsafe configuration. See deploy/README.md.",
    )
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (WEB_CONCURRENCY; default: 1 on SQLite, else CPUs up to 4)",
    )
    parser.add_argument("--migrate", action="store_true", help="apply database migrations before serving")
    parser.add_argument("--no-collectstatic", action="store_true", help="skip collectstatic (already done)")
    parser.add_argument("--check", action="store_true", help="only check the configuration and exit")
    args = parser.parse_args(argv)
    from bidcart.core import deploy_checks
    from bidcart.core.env import read

    try:
        workers = args.workers if args.workers is not None else read().workers
    except ValueError as error:
        parser.error(str(error))
    if workers < 1:
        parser.error("--workers must be at least 1")

    found = deploy_checks.problems(deploy_checks.Config.from_environ(os.environ, workers=workers))
    if found:
        print("bidcart serve: refusing to start with an unsafe configuration:\n", file=sys.stderr)
        for problem in found:
            print(f"  [{problem.id}] {problem}\n", file=sys.stderr)
        print("Set these in the environment (see deploy/bidcart.env.example) and start again.", file=sys.stderr)
        return 2
    simulated = deploy_checks.simulated_payments(deploy_checks.Config.from_environ(os.environ, workers=workers))
    if simulated:
        print(f"bidcart serve: WARNING: {simulated}", file=sys.stderr, flush=True)
    if args.check:
        _setup_django()
        if not _rate_limits_parse():
            return 2
        print("bidcart serve: the configuration is safe to serve with %d worker(s)." % workers)
        return 0
    _prepare_data_dir()

    # Every worker process inherits these: collected static files (not the apps' folders), the worker
    # count for `check --deploy`, and one Prometheus directory per `bidcart serve` for several workers.
    os.environ.setdefault("WHITENOISE_USE_FINDERS", "0")
    os.environ["WEB_CONCURRENCY"] = str(workers)
    metrics_dir = None
    if workers > 1:
        metrics_dir = _prepare_metrics_dir()
    _setup_django()
    if not _rate_limits_parse():  # at the start, not at the first login or bid
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        return 2

    import uvicorn
    from django.conf import settings
    from django.core.management import call_command

    from bidcart.core.jobs import JobLoop

    if args.migrate:
        call_command("migrate", interactive=False, verbosity=1)
    if not args.no_collectstatic:
        call_command("collectstatic", interactive=False, verbosity=0)

    loop = None
    if settings.BIDCART_JOBS == "inprocess":
        loop = JobLoop()
        loop.start()
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    jobs = "in this process" if loop else "by Celery: run `bidcart worker` and one `bidcart beat`"
    print(
        f"bidcart serve: {workers} worker(s) on http://{shown_host}:{args.port}/ "
        f"(database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"{'Redis' if settings.REDIS_URL else 'in-memory'} channel layer, jobs {jobs})",
        flush=True,
    )
    if settings.DEBUG:
        print("bidcart serve: DEBUG is on (local hosts only); unset it for a public server.", flush=True)
    try:
        uvicorn.run(
            "bidcart.asgi:application",
            host=args.host,
            port=args.port,
            workers=workers if workers > 1 else None,
            lifespan="on",
            log_config=None,
            log_level=settings.LOG_LEVEL.lower(),
            # bidcart's middleware writes one line per request (JSON); Django decides which proxies to
            # trust (NUM_PROXIES, BEHIND_TLS_PROXY): server_limits() turns uvicorn's proxy_headers off.
            access_log=settings.LOG_FORMAT != "json",
            server_header=False,
            timeout_graceful_shutdown=20,
            **server_limits(),
        )
    finally:
        if loop:
            loop.stop()
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _rate_limits_parse() -> bool:
    from bidcart.core.ratelimit import check_limits

    for error in check_limits():
        print(f"bidcart serve: refusing to start: [{error.id}] {error.msg}", file=sys.stderr)
        return False
    return True


def _prepare_metrics_dir() -> str:
    """prometheus_client's multiprocess mode: every worker writes its samples to files in one directory,
    which /metrics adds up. It must be empty when the workers start."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith(".db"):
                os.remove(os.path.join(path, name))
    else:
        path = tempfile.mkdtemp(prefix="bidcart-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        return path  # ours: removed on exit
    return None


def _celery(argv: list[str]) -> int:
    """A worker or beat: the data folder (beat's schedule lives there; the SQLite file, 0600, when there is
    no DATABASE_URL), then Celery."""
    from bidcart.core import datadir
    from bidcart.core.env import read

    env = read()
    datadir.prepare(env.data_dir, secret_key=False, admin_path=False, sqlite=not env.database_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")
    from bidcart.celery import app

    app.start(argv=argv)
    return 0


def worker(argv: list[str]) -> int:
    """`celery -A bidcart worker`: runs the due sweeps (and any other task). As many as you like.
    `--metrics-port N` (and `--metrics-host`, default 127.0.0.1) serves the pool's /metrics."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--metrics-port", type=int, default=int(os.environ.get("WORKER_METRICS_PORT") or 0))
    parser.add_argument("--metrics-host", default=os.environ.get("WORKER_METRICS_HOST", "127.0.0.1"))
    ours, argv = parser.parse_known_args(argv)
    if not any(a.startswith(("-l", "--loglevel")) for a in argv):
        argv = ["--loglevel=INFO", *argv]
    metrics_dir = None
    if ours.metrics_port:
        metrics_dir = _prepare_metrics_dir()  # before the pool forks: its processes write their samples there
        _setup_django()
        from bidcart.core import metrics

        metrics.serve_worker_metrics(ours.metrics_host, ours.metrics_port)
    try:
        return _celery(["worker", *argv])
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def beat(argv: list[str]) -> int:
    """`celery -A bidcart beat`: sends `bidcart.tick` every second. Exactly one in the whole deployment."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")
    if not any(a.startswith(("-l", "--loglevel")) for a in argv):
        argv = ["--loglevel=INFO", *argv]
    if not any(a.startswith(("-s", "--schedule")) for a in argv):
        from django.conf import settings

        argv = [f"--schedule={settings.DATA_DIR / 'celerybeat-schedule'}", *argv]
    return _celery(["beat", *argv])


def manage(argv: list[str]) -> int:
    if not any(name in os.environ for name in PRODUCTION_MARKERS):
        _embedded_defaults()
    _prepare_data_dir()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["bidcart manage", *argv])
    return 0


def pgsim(argv: list[str]) -> int:
    from bidcart.pgsim.cli import main as pgsim_main

    return pgsim_main(argv)


COMMANDS = {"run": run, "serve": serve, "worker": worker, "beat": beat, "manage": manage, "pgsim": pgsim}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(
            "usage: bidcart {run,serve,worker,beat,pgsim,manage} [...]\n"
            "  run     migrate, seed demo data, serve shop + API + WebSockets + /pgsim/ on one port\n"
            "  serve   production: several worker processes, refuses an unsafe configuration\n"
            "  worker  a Celery worker (celery -A bidcart worker): runs the sweeps\n"
            "  beat    Celery beat (celery -A bidcart beat): one per deployment\n"
            "  pgsim   run the payment-gateway simulator on its own\n"
            "  manage  Django management commands (bidcart manage help)",
            file=sys.stderr,
        )
        return 2
    return COMMANDS[argv[0]](argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
