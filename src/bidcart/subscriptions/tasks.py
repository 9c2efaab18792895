from bidcart.core.jobs import sweep

from . import services


@sweep(every=60)
def run_subscription_cycles() -> None:
    """Due cycles become orders charged to the subscriber's card (once per cycle), declined ones are retried
    on schedule, and renewals coming up are announced by email (once per cycle)."""
    services.run_cycles()
