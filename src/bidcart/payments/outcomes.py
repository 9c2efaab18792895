"""What a buyer is told about how a payment attempt ended: the one mapping from provider outcomes to prose.

Providers answer with codes and raw text (KakaoPay `QUIT_PAYMENT`, PayPal `INSTRUMENT_DECLINED` or
"PayPal POST /v2/checkout/orders/…/capture → 422", PortOne's Korean `fail_reason`). Those stay where staff
read them: `Payment.failure` and the payment's event log. A buyer (pages, emails, the API) reads only the
short sentences below, in their language, chosen here from the payment's status and that raw text.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CANCELLED = _("You cancelled the payment.")
DECLINED = _("The card or account was declined. Try another card or payment method.")
MISMATCH = _("The amount paid did not match the order; the payment was cancelled.")
EXPIRED = _("The payment was not completed in time.")
UNAVAILABLE = _("The payment provider did not answer; try again or choose another method.")
FAILED = _("The payment did not go through. Try again, or choose another payment method.")
GIVEN_BACK = _("The order could no longer take this payment, so the full amount goes back to you.")

# Raw text written by the services themselves (English, for staff), matched below like a provider's.
RAW_MISMATCH = "amount mismatch"
RAW_EXPIRED = "not completed in time"
RAW_GIVEN_BACK = "not the order's payment"  # captured for an order that was expired, cancelled or paid already

# First match wins: fragments (case-insensitive) of provider codes or messages → what the buyer reads.
RULES: list[tuple[tuple[str, ...], object]] = [
    ((RAW_MISMATCH, "F1002", "사전등록된 금액"), MISMATCH),
    ((RAW_EXPIRED,), EXPIRED),
    (("QUIT_PAYMENT", "USER_CANCEL", "PAY_PROCESS_CANCELED", "F0005", "취소", "cancel", "VOIDED"), CANCELLED),
    (
        (
            "INSTRUMENT_DECLINED",
            "DECLINED",
            "FAIL_PAYMENT",
            "-780",
            "F0004",
            "거절",
            "한도",
            "잔액",
            "유효기간",
            "expired card",
            "CARD_EXPIRED",
        ),
        DECLINED,
    ),
    (("timeout", "timed out", "→ 5", "503", "502", "unreachable", "connection"), UNAVAILABLE),
]


def from_raw(raw: str, *, default=FAILED):
    """The buyer's sentence for a provider's raw failure text."""
    text = (raw or "").lower()
    for fragments, message in RULES:
        if any(fragment.lower() in text for fragment in fragments):
            return message
    return default


def for_buyer(payment) -> str:
    """What the buyer reads about `payment` beside its status: empty while it is open or went through."""
    from .models import CAPTURED, Status

    if payment.status in CAPTURED:
        return str(GIVEN_BACK) if RAW_GIVEN_BACK in (payment.failure or "") else ""
    if payment.status == Status.CANCELLED:
        return str(from_raw(payment.failure, default=CANCELLED))
    if payment.status == Status.EXPIRED:
        return str(EXPIRED)
    if payment.status == Status.FAILED:
        return str(from_raw(payment.failure))
    return ""
