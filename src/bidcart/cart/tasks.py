from bidcart.core.jobs import sweep

from . import services


@sweep(every=3600)
def purge_stale_carts() -> None:
    """Visitors' carts nobody touched for 30 days go; signed-in users' carts stay."""
    services.purge_stale_anonymous_carts()
