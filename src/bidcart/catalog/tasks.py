from bidcart.core.jobs import sweep

from . import services


@sweep(every=60)
def send_restock_alerts() -> None:
    """재입고 알림: email shoppers waiting for an option that has stock again (once per alert)."""
    services.send_restock_alerts()
