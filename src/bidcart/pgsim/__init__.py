"""pgsim: a payment-gateway simulator speaking KakaoPay, PortOne (V1 and V2) and PayPal.

A standalone ASGI app (Starlette + httpx only; it must not import Django or any other
bidcart app) so that any client, in any framework, can point its base URL at it.
Entry points: ``bidcart.pgsim.app.create_app``, ``bidcart.pgsim.config.SimConfig``,
``bidcart.pgsim.cli.main``. Documentation: docs/pgsim.md.
"""
