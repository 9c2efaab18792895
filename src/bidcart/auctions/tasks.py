"""Auction sweeps (job loop / Celery beat). Each is idempotent and safe to run twice at once."""

from bidcart.core.jobs import sweep

from . import announce, services


@sweep(every=1)
def start_scheduled_lots() -> None:
    services.start_scheduled_lots()


@sweep(every=1)
def close_ended_lots() -> None:
    """Bids after the end are refused by the bid transaction itself; this finalises within a second or two."""
    services.close_ended_lots()


@sweep(every=5)
def announce_pending_bids() -> None:
    """Bids committed by a process that died (or whose announcer failed) before announcing them."""
    announce.replay_pending()


@sweep(every=5)
def settle_wins() -> None:
    """Paid wins, and unpaid ones (the orders app expired the order): strike, second chance, relist."""
    services.settle_wins()


@sweep(every=30)
def retry_due_charges() -> None:
    """Wins still to be charged to a saved card a minute after the close (the closer stopped, or the
    provider's answer was lost): charged, or read back, under the same key."""
    services.autocharge.retry_due_charges()


@sweep(every=30)
def expire_second_chance_offers() -> None:
    services.expire_offers()


@sweep(every=30)
def ending_soon_notices() -> None:
    services.send_ending_soon()


@sweep(every=15)
def email_notices() -> None:
    services.email_notices()


@sweep(every=30)
def keep_a_demo_lot_ending_soon() -> None:
    """Only where the demo was seeded: one lot always in its last minutes for a newcomer to try."""
    from . import demo

    demo.keep_one_ending_soon()
