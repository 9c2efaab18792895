"""Auction settings with their defaults. settings.py may override any of them (its `# --- Auctions` block
reads the main ones from the environment); everything else reads them through here."""

from datetime import timedelta

from django.conf import settings

# Increment tables by currency: (price from, increment), in minor units, ascending. The increment of a
# price is the one of the last band that starts at or below it. Increments never shrink as prices grow
# (so the proxy price can never go down); `engine.validate_table` checks that.
DEFAULT_INCREMENTS = {
    # KRW: round steps at Korean price levels (₩100 under ₩10,000 … ₩100,000 from ₩10,000,000).
    "KRW": [
        [0, 100],
        [10_000, 500],
        [50_000, 1_000],
        [100_000, 2_500],
        [500_000, 5_000],
        [1_000_000, 10_000],
        [5_000_000, 50_000],
        [10_000_000, 100_000],
    ],
    # USD in cents: eBay.com's table.
    "USD": [
        [0, 5],
        [100, 25],
        [500, 50],
        [2_500, 100],
        [10_000, 250],
        [25_000, 500],
        [50_000, 1_000],
        [100_000, 2_500],
        [250_000, 5_000],
        [500_000, 10_000],
    ],
}

# The longest soft-close window a seller may choose (an hour): the form, the API and `create_lot` all read it.
SOFT_CLOSE_MAX_SECONDS = 3600

DEFAULTS = {
    "AUCTION_INCREMENTS": DEFAULT_INCREMENTS,
    "AUCTION_CURRENCIES": ["KRW"],
    "AUCTION_SOFT_CLOSE_SECONDS": 120,  # a bid this close to the end moves the end to bid time + this
    "AUCTION_BUY_NOW_MIN_PERCENT": 130,  # Buy It Now at least this % of the start price
    "AUCTION_PAYMENT_HOURS": 48,  # a winner's payment deadline
    "AUCTION_SHIPPING_FEE": 0,  # added to an auction order (minor units)
    "AUCTION_SECOND_CHANCE_HOURS": 48,  # how long a runner-up has to accept a second-chance offer
    "AUCTION_STRIKES_TO_BLOCK": 3,  # unpaid wins (not lifted) that block bidding…
    "AUCTION_BLOCK_DAYS": 30,  # …for this long after the last one
    "AUCTION_ENDING_SOON_MINUTES": 10,  # watchers are told this long before the end
    "AUCTION_EMAIL_NOTICES": ["outbid", "ending_soon"],  # notices also sent by email (won and second chance always are)
    "AUCTION_OUTBID_EMAIL_DELAY_SECONDS": 60,  # a bidder in the room who answers within this gets no email
    "AUCTION_CHAT_MAX_LENGTH": 300,
    "AUCTION_MAX_DURATION_DAYS": 30,
    "AUCTION_MAX_IMAGES": 8,
    "AUCTION_BROADCAST_TIMEOUT": 1.0,  # seconds a broadcast may take outside a server process
    # a bid's events and notice go out from a thread, not its request (announce.py)
    "AUCTION_ANNOUNCE_IN_BACKGROUND": True,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def increment_table(currency: str) -> list[list[int]]:
    tables = get("AUCTION_INCREMENTS")
    table = tables.get(currency.upper()) or DEFAULT_INCREMENTS.get(currency.upper()) or DEFAULT_INCREMENTS["KRW"]
    return [[int(a), int(b)] for a, b in table]


def soft_close() -> int:
    return int(get("AUCTION_SOFT_CLOSE_SECONDS"))


def payment_window() -> timedelta:
    return timedelta(hours=get("AUCTION_PAYMENT_HOURS"))


def second_chance_window() -> timedelta:
    return timedelta(hours=get("AUCTION_SECOND_CHANCE_HOURS"))
