"""PortOne V2: pre-register the amount → `PortOne.requestPayment` in the browser → read the payment.

Wire facts: PAYMENT_PROTOCOLS.md §3. `Authorization: PortOne <API secret>`; `storeId` rides on every
request (query on GETs, body on POSTs); errors are `{type, message}` with the HTTP status of the type;
amounts are integers in the currency's minor units (the same as bidcart's).

What the services should know:
- The paymentId is our merchant_uid, so nothing needs storing before the buyer pays; `Next.psp` is
  `{"payment_id": merchant_uid}` anyway, for finding the payment by reference.
- start pre-registers the amount: the payment window refuses any other amount for this paymentId (the
  payment ends FAILED → "failed"). Pre-register carries an Idempotency-Key, so it is safe to repeat.
  `Next.params` are `PortOne.requestPayment`'s parameters as they stand (no extra keys).
- confirm(params) takes the redirect's query `paymentId`, `txId`, `transactionType` (+ `code`,
  `message` on failure) and ignores all of it: it reads `GET /payments/{merchant_uid}`. A `code` from
  the browser is only a hint; an unpaid payment is "pending"/"failed" because PortOne says so.
- fetch: unknown paymentId (404) and READY / PAY_PENDING → "pending"; VIRTUAL_ACCOUNT_ISSUED →
  "awaiting_deposit" with `vbank`; PAID → "paid"; PARTIAL_CANCELLED → "paid" with `refunded =
  amount.cancelled`; CANCELLED → "paid" with `refunded = amount.cancelled` if it was paid, else
  "cancelled"; FAILED → "failed" with PortOne's reason. Unknown future statuses read as "pending".
- cancel: an unpaid payment has nothing to void here (a virtual account not yet paid into cannot be
  closed through this API: it lapses at its due date; a deposit after that is PortOne's refusal);
  a paid one is cancelled in full with `currentCancellableAmount`. Reports the truth after.
- refund sends `currentCancellableAmount=refundable` (PortOne's consistency check) and
  `Idempotency-Key: <key>`, so a retried refund is answered, not executed, twice. A cancellation
  PortOne reports as REQUESTED (asynchronous) raises `ProviderError(outcome_unknown=True)`: the
  services learn the result by fetching later.
- Webhooks are verified with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`),
  HMAC-SHA256 keyed with the base64 part of the `whsec_` secret, over the raw body; 5 minutes of clock
  tolerance either way. event_id = the webhook-id (the same on every retry of one event).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import quote

from .base import Next, Provider, ProviderError, RefundResult, Snapshot, Urls, WebhookNotice, WebhookRejected
from .portone_v2_billing import PortOneV2BillingKeys

if TYPE_CHECKING:
    from ..banks import RefundAccount
    from ..models import Payment

PAY_METHODS = {"card": "CARD", "vbank": "VIRTUAL_ACCOUNT"}
PENDING = {"READY", "PAY_PENDING"}
WEBHOOK_TOLERANCE_SECONDS = 5 * 60
# Errors that mean "the request is still being processed or its fate is not known"
UNKNOWN_OUTCOME_TYPES = {"IDEMPOTENCY_OUTSTANDING_REQUEST", "PG_PROVIDER"}


def _path(payment: "Payment") -> str:
    return f"/payments/{quote(payment.merchant_uid, safe='')}"


def _idempotency_key(key: str) -> str:
    """PortOne takes 16–256 ASCII characters, sent as an RFC 8941 string (quoted)."""
    if len(key) < 16 or len(key) > 256 or not key.isascii() or '"' in key or "\\" in key:
        key = "bidcart-" + hashlib.sha256(key.encode()).hexdigest()
    return f'"{key}"'


def _utc_iso(value: str | None) -> str:
    """RFC 3339 from PortOne → ISO 8601 in UTC (what the services store and compare)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc).isoformat()
    except ValueError:
        return value


class PortOneV2(PortOneV2BillingKeys, Provider):
    name = "portone_v2"
    label = "PortOne V2"
    methods = ("card", "vbank")
    settings_key = "PORTONE_V2"
    options = {
        "base_url": "",  # https://api.portone.io
        "secret": "",
        "store_id": "",
        "channel_key": "",
        "webhook_secret": "",
        "script_url": "",  # default https://cdn.portone.io/v2/browser-sdk.js
    }
    credentials = ("secret", "store_id", "channel_key", "webhook_secret")
    simulator_path = "portone"
    simulator_credentials = {
        "secret": "portone_secret",
        "store_id": "portone_store_id",
        "webhook_secret": "portone_webhook_secret",
    }
    reference_keys = ("payment_id",)
    csp = {
        "script-src": ("https://cdn.portone.io",),
        "connect-src": ("https://*.portone.io",),
        "frame-src": ("https://*.portone.io",),
        "form-action": ("https://*.portone.io",),
    }

    @classmethod
    def finish_config(cls, conf, *, simulator_base):
        if simulator_base:
            conf["channel_key"] = conf["channel_key"] or "channel-key-pgsim"
            conf["script_url"] = conf["script_url"] or f"{simulator_base}/browser-sdk.js"
        conf["script_url"] = conf["script_url"] or "https://cdn.portone.io/v2/browser-sdk.js"

    # --- the wire ----------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        idempotency_key: str = "",
        missing_ok: bool = False,
        query: dict | None = None,
    ) -> Any:
        headers = {"Authorization": f"PortOne {self.config['secret']}"}
        if method in ("GET", "DELETE"):  # parameters in the query (DELETE /billing-keys/{billingKey}?storeId=&reason=)
            answer = self.http.request(
                method, path, params={"storeId": self.config["store_id"], **(query or {})}, headers=headers
            )
        else:
            if idempotency_key:
                headers["Idempotency-Key"] = _idempotency_key(idempotency_key)
            # only a keyed POST may be repeated: PortOne answers the repeat with the first answer
            answer = self.http.request(
                method,
                path,
                json_body={**(body or {}), "storeId": self.config["store_id"]},
                headers=headers,
                safe=bool(idempotency_key),
            )
        data = answer.data if isinstance(answer.data, dict) else None
        error_type = str((data or {}).get("type") or "")
        message = (data or {}).get("message") or f"HTTP {answer.status}"
        if answer.status == 404 and missing_ok and error_type == "PAYMENT_NOT_FOUND":
            return None
        if answer.status >= 500 or error_type in UNKNOWN_OUTCOME_TYPES:
            raise ProviderError(
                f"PortOne V2 {method} {path}: {message}",
                code=error_type,
                http_status=answer.status,
                outcome_unknown=True,
                payload=answer.data,
            )
        if answer.status >= 400:
            raise ProviderError(
                f"PortOne V2 {method} {path}: {message}",
                code=error_type or str(answer.status),
                http_status=answer.status,
                payload=answer.data,
            )
        if data is None:
            raise ProviderError(
                f"PortOne V2 {method} {path}: unreadable answer",
                code="bad_response",
                http_status=answer.status,
                outcome_unknown=True,
                payload=answer.data,
            )
        return data

    def _payment(self, payment: "Payment") -> dict | None:
        return self._call("GET", _path(payment), missing_ok=True)

    def _snapshot(self, payment: "Payment", data: dict | None) -> Snapshot:
        if data is None:  # nothing happened at PortOne yet
            return Snapshot(state="pending", amount=payment.provider_amount, currency=payment.provider_currency)
        amounts = data.get("amount") or {}
        currency = str(data.get("currency") or payment.provider_currency).removeprefix("CURRENCY_")
        common = {
            "amount": int(amounts.get("total") or 0),
            "currency": currency,
            "merchant_uid": data.get("id"),
            "raw": data,
            "psp": {"payment_id": data.get("id"), "transaction_id": data.get("transactionId")},
        }
        refunded = int(amounts.get("cancelled") or 0)
        status = data.get("status")
        if status in ("PAID", "PARTIAL_CANCELLED"):
            return Snapshot(state="paid", refunded=refunded, **common)
        if status == "CANCELLED":
            if data.get("paidAt"):  # paid, then cancelled in full: the money went back
                return Snapshot(state="paid", refunded=refunded or common["amount"], **common)
            return Snapshot(state="cancelled", **common)
        if status == "FAILED":
            failure = data.get("failure") or {}
            return Snapshot(state="failed", failure=failure.get("reason") or failure.get("pgMessage") or "", **common)
        if status == "VIRTUAL_ACCOUNT_ISSUED":
            method = data.get("method") or {}
            vbank = {
                "bank": method.get("bank") or "",
                "account": method.get("accountNumber") or "",
                "holder": method.get("remitteeName") or "",
                "due": _utc_iso(method.get("expiredAt")),
            }
            return Snapshot(state="awaiting_deposit", vbank=vbank, **common)
        # READY, PAY_PENDING, or a status PortOne adds later: not settled, keep asking
        return Snapshot(state="pending", **common)

    # --- the six calls -----------------------------------------------------------------
    def start(self, payment: "Payment", *, urls: Urls, mobile: bool) -> Next:
        self._call(
            "POST",
            f"{_path(payment)}/pre-register",
            {"totalAmount": payment.provider_amount, "currency": payment.provider_currency},
            idempotency_key=f"prereg-{payment.merchant_uid}",
        )
        order, buyer = payment.order, payment.buyer
        customer = {"fullName": order.recipient or buyer.display_name, "email": buyer.email, "phoneNumber": order.phone}
        params = {
            "storeId": self.config["store_id"],
            "channelKey": self.config["channel_key"],
            "paymentId": payment.merchant_uid,
            "orderName": payment.item_name,
            "totalAmount": payment.provider_amount,
            "currency": payment.provider_currency,  # the SDK takes ISO codes ("KRW"); "CURRENCY_KRW" is deprecated
            "payMethod": PAY_METHODS[payment.method],
            # where the browser comes back to on mobile, and wherever the SDK redirects instead of resolving
            "redirectUrl": urls.approve,
            "noticeUrls": [urls.notify],
            "customer": {k: v for k, v in customer.items() if v},
        }
        return Next(
            type="client", script=self.config["script_url"], params=params, psp={"payment_id": payment.merchant_uid}
        )

    def confirm(self, payment: "Payment", params: Mapping[str, str]) -> Snapshot:
        """`params` (paymentId, txId, code, message) are hints only: the payment is read from PortOne."""
        return self.fetch(payment)

    def fetch(self, payment: "Payment") -> Snapshot:
        return self._snapshot(payment, self._payment(payment))

    def cancel(self, payment: "Payment", *, reason: str) -> Snapshot:
        now = self.fetch(payment)
        if now.state == "awaiting_deposit":
            # Nobody may deposit into a dead order: close (말소) the account. A refusal other than "not
            # waiting any more" is raised, not swallowed: the services record it and the sweep retries.
            try:
                self._call("POST", f"{_path(payment)}/virtual-account/close", {})
            except ProviderError as exc:
                if exc.code != "PAYMENT_NOT_WAITING_FOR_DEPOSIT":
                    raise
            return self.fetch(payment)
        left = now.amount - now.refunded
        if now.state != "paid" or left <= 0:
            return now  # nothing paid, nothing to give back
        try:
            self._call(
                "POST",
                f"{_path(payment)}/cancel",
                {"reason": reason[:200] or "cancelled", "currentCancellableAmount": left},
                idempotency_key=f"cancel-{payment.merchant_uid}-{left}",
            )  # no amount: the whole balance
        except ProviderError as exc:
            if exc.outcome_unknown:
                raise
            # refused (cancelled or refunded meanwhile, say): the truth below says what it is now
        return self.fetch(payment)

    def refund(
        self,
        payment: "Payment",
        *,
        amount: int,
        refundable: int,
        reason: str,
        key: str,
        refund_account: "RefundAccount | None" = None,
    ) -> RefundResult:
        body: dict[str, Any] = {
            "amount": amount,
            "reason": reason[:200] or "refund",
            "currentCancellableAmount": refundable,
        }
        if refund_account:  # a virtual-account payment goes back by bank transfer
            body["refundAccount"] = {
                "bank": refund_account.bank.key,
                "number": refund_account.number,
                "holderName": refund_account.holder,
            }
        data = self._call("POST", f"{_path(payment)}/cancel", body, idempotency_key=key)
        cancellation = data.get("cancellation") or {}
        status = cancellation.get("status")
        if status == "FAILED":
            raise ProviderError(
                f"PortOne V2 refund failed: {cancellation.get('reason') or ''}".strip(),
                code="CANCELLATION_FAILED",
                payload=data,
            )
        if status != "SUCCEEDED":
            raise ProviderError(
                f"PortOne V2 refund {status or 'unconfirmed'}: the result comes later",
                code=f"CANCELLATION_{status or 'UNKNOWN'}",
                outcome_unknown=True,
                payload=data,
            )
        # PortOne accepted currentCancellableAmount, so the total refunded before this one is
        # everything paid minus `refundable`; read it back to be exact, estimate only if that fails.
        try:
            refunded_total = self.fetch(payment).refunded
        except ProviderError:
            refunded_total = payment.provider_amount - refundable + int(cancellation.get("totalAmount") or amount)
        return RefundResult(psp_reference=str(cancellation.get("id") or ""), refunded_total=refunded_total)

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        headers = {k.lower(): v for k, v in headers.items()}
        msg_id, timestamp, signatures = (
            headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
        )
        if not (msg_id and timestamp and signatures):
            raise WebhookRejected("PortOne V2 webhook without webhook-id, webhook-timestamp and webhook-signature")
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise WebhookRejected("PortOne V2 webhook with a malformed timestamp") from None
        # a stale timestamp is a replay of a captured delivery, however well signed
        if abs(time.time() - sent_at) > WEBHOOK_TOLERANCE_SECONDS:
            raise WebhookRejected("PortOne V2 webhook timestamp outside 5 minutes of now")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookRejected("PortOne V2 webhook body is not UTF-8") from None
        expected = hmac.new(self._webhook_key(), f"{msg_id}.{timestamp}.{text}".encode(), hashlib.sha256).digest()
        if not any(hmac.compare_digest(expected, sig) for sig in _v1_signatures(signatures)):
            raise WebhookRejected("PortOne V2 webhook signature does not match")
        try:
            event = json.loads(text)
        except (ValueError, RecursionError):
            raise WebhookRejected("PortOne V2 webhook body is not JSON") from None
        data = event.get("data") if isinstance(event, dict) else None
        if not isinstance(data, dict) or not isinstance(event.get("type"), str):
            raise WebhookRejected("PortOne V2 webhook without type and data")
        payment_id = data.get("paymentId")
        if payment_id is not None and not isinstance(payment_id, str):
            raise WebhookRejected("PortOne V2 webhook with a malformed paymentId")
        psp = {"payment_id": payment_id, "transaction_id": data.get("transactionId")}
        # billing-key events (BillingKey.Issued / .Deleted) carry no paymentId but the key
        key = data.get("billingKey") if event["type"].startswith("BillingKey.") else None
        return WebhookNotice(
            event_id=msg_id,
            event_type=event["type"],
            merchant_uid=payment_id,
            psp={k: v for k, v in psp.items() if isinstance(v, str) and v},
            billing_key=key if isinstance(key, str) and key else None,
        )

    def _webhook_key(self) -> bytes:
        """The HMAC key: the base64 after `whsec_`, decoded as pgsim and PortOne's SDK decode it."""
        secret = self.config.get("webhook_secret") or ""
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"))
        except (binascii.Error, ValueError):
            key = b""
        if not key:
            # a configuration problem, not a forged delivery: fail so the delivery is retried later
            raise ProviderError(
                "PortOne V2 webhook secret is missing or not base64 (whsec_<base64>)", code="webhook_secret"
            )
        return key


def _v1_signatures(header: str) -> list[bytes]:
    """`v1,<base64>` entries, space-separated (several while a secret is rotated); others skipped."""
    found = []
    for entry in header.split():
        version, _, signature = entry.partition(",")
        if version != "v1" or not signature:
            continue
        try:
            found.append(base64.b64decode(signature, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found
