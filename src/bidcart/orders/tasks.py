from bidcart.core.jobs import sweep

from . import services


@sweep(every=60)
def expire_unpaid_orders() -> None:
    """Orders unpaid past ORDER_PAYMENT_WINDOW_MINUTES (default 30) expire and give their stock back."""
    services.expire_unpaid()


@sweep(every=3600)
def confirm_delivered_orders() -> None:
    """구매확정 for orders delivered ORDER_AUTO_CONFIRM_DAYS (default 7) ago that the buyer never confirmed."""
    services.auto_confirm_delivered()
