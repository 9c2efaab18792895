from bidcart.core.jobs import sweep

from . import services


@sweep(every=60)
def expire_unpaid_orders() -> None:
    """Orders unpaid past ORDER_PAYMENT_WINDOW_MINUTES (default 30) expire and give their stock back."""
    services.expire_unpaid()
