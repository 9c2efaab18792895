"""`bidcart pgsim`: run the simulator standalone with uvicorn."""

from __future__ import annotations

import argparse
import dataclasses

from .config import SimConfig
from .core import PROVIDERS


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bidcart pgsim", description="Run the payment-gateway simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--state-file", default=None, help="persist state to this SQLite file (PGSIM_STATE_FILE)")
    parser.add_argument(
        "--control",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="enable the /_control API (PGSIM_CONTROL)",
    )
    args = parser.parse_args(argv)

    config = SimConfig.from_env()
    if args.state_file:
        config = dataclasses.replace(config, state_file=args.state_file)
    if args.control is not None:
        config = dataclasses.replace(config, control=args.control)

    import uvicorn

    from .app import create_app

    app = create_app(config)
    base = f"http://{args.host}:{args.port}"
    print(f"pgsim on {base}")
    for provider in PROVIDERS:
        print(f"  {provider:9} {base}/{provider}")
    print(f"  control   {base}/_control/" + ("" if config.control else "  (disabled; --control to enable)"))
    if config.state_file:
        print(f"  state     {config.state_file}")
    from .targets import allowed_origins

    origins = allowed_origins(config)
    print(
        "  targets   "
        + (", ".join(origins) if origins else "none: set PGSIM_ALLOWED_ORIGINS to the shop's origin")
        + "  (where browsers and webhooks may be sent)"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
