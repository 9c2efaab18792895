"""`bidcart` command: run the whole product on one port, the payment simulator alone, or manage.py."""

from __future__ import annotations

import argparse
import os
import sys


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")
    import django

    django.setup()


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bidcart run", description="Migrate, seed demo data and serve everything on one port.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--no-seed", action="store_true", help="do not seed demo data")
    args = parser.parse_args(argv)

    # The embedded default is a developer's machine: DEBUG on unless the environment says otherwise.
    os.environ.setdefault("DEBUG", "1")
    _setup_django()

    import uvicorn
    from django.conf import settings
    from django.core.management import call_command

    from bidcart.accounts.demo import DEMO_PASSWORD, DEMO_USERS
    from bidcart.core.jobs import JobLoop

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
        uvicorn.run("bidcart.asgi:application", host=args.host, port=args.port, lifespan="on", log_level="info")
    finally:
        if loop:
            loop.stop()
    return 0


def manage(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["bidcart manage", *argv])
    return 0


def pgsim(argv: list[str]) -> int:
    from bidcart.pgsim.cli import main as pgsim_main

    return pgsim_main(argv)


COMMANDS = {"run": run, "manage": manage, "pgsim": pgsim}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print("usage: bidcart {run,pgsim,manage} [...]\n"
              "  run     migrate, seed demo data, serve shop + API + WebSockets + /pgsim/ on one port\n"
              "  pgsim   run the payment-gateway simulator on its own\n"
              "  manage  Django management commands (bidcart manage help)", file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
