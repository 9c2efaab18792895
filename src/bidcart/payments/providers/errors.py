"""What a provider call can go wrong with: raised by the adapters and by the HTTP client they share
(providers/http.py), read by `payments.services`. Imports nothing, so both can import it."""

from __future__ import annotations

from typing import Any


class ProviderError(Exception):
    """A call failed. `outcome_unknown` is True when the request may have taken effect at the provider
    (timeout, connection dropped, 5xx): the payment must then be reconciled, not marked failed."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        http_status: int | None = None,
        outcome_unknown: bool = False,
        payload: Any = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.outcome_unknown = outcome_unknown
        self.payload = payload


class WebhookRejected(Exception):
    """The delivery is not verifiably from the provider (bad signature, stale timestamp, malformed)."""
