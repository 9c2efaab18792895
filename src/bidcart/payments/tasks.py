from bidcart.core.jobs import sweep

from . import services


@sweep(every=60)
def reconcile_payments() -> None:
    """Payments open longer than PAYMENT_RECONCILE_AFTER_MINUTES are settled from their provider's
    answer; abandoned ones are cancelled there."""
    services.reconcile()


@sweep(every=300)
def retry_failed_webhooks() -> None:
    """Deliveries whose processing failed (provider down while verifying) are tried again."""
    services.replay_webhooks(failed_only=True, limit=100)
