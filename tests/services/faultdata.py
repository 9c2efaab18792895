"""Data for the fault tests, made inside the stack's database by `Stack.django("tests.services.faultdata:…")`
(a process set up like the stack's, so its sessions and tokens are valid on the web servers)."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module


def _free_phone() -> str:
    """A mobile number no account has verified yet: a verified phone belongs to one account
    (accounts_verified_phone_once), and the tests share the stack's database, each with its own people."""
    from bidcart.accounts.models import User

    taken = set(User.objects.filter(phone__startswith="+821077").values_list("phone", flat=True))
    return next(phone for n in range(77_000_000, 78_000_000) if (phone := f"+8210{n}") not in taken)


def _person(email: str, **extra):
    from django.utils import timezone

    from bidcart.accounts.models import User

    now = timezone.now()
    return User.objects.filter(email=email).first() or User.objects.create_user(
        email,
        None,
        display_name=email.split("@")[0],
        is_active=True,
        email_verified_at=now,
        phone_verified_at=now,
        phone=_free_phone(),
        **extra,
    )


def _session(user) -> str:
    """A logged-in session, as the login form leaves it: the cookie value a browser would send."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def _seller_and_category(tag: str):
    from bidcart.catalog.models import Category

    seller = _person(f"{tag}-seller@example.com", is_seller=True)
    category, _ = Category.objects.get_or_create(slug=f"{tag}-lots", defaults={"name": f"{tag} lots"})
    return seller, category


def live_lot(tag: str, bidders: int) -> dict:
    """A live lot (no soft close, an hour to go) and `bidders` verified bidders, each with a session cookie
    and an API token."""
    from django.utils import timezone

    from bidcart.accounts.jwt import token_pair
    from bidcart.auctions import services

    seller, category = _seller_and_category(tag)
    lot = services.create_lot(
        seller,
        title=f"{tag} lot",
        category=category,
        start_price=1_000,
        ends_at=timezone.now() + timedelta(hours=1),
        soft_close_seconds=0,
    )
    people = [_person(f"{tag}-bidder{i}@example.com") for i in range(bidders)]
    return {
        "lot": lot.pk,
        "bidders": [{"id": p.pk, "session": _session(p), "token": token_pair(p)["access"]} for p in people],
    }


def ended_lots(tag: str, count: int) -> list[int]:
    """`count` lots past their end, each with one bid (so each closes as sold and gets an order), written in
    one transaction: the closing sweep finds them all at once."""
    from django.db import transaction
    from django.utils import timezone

    from bidcart.auctions import conf
    from bidcart.auctions.models import Bid, BidderAlias, Lot

    seller, category = _seller_and_category(tag)
    buyer = _person(f"{tag}-winner@example.com")
    now = timezone.now()
    table = [list(row) for row in conf.increment_table("KRW")]
    with transaction.atomic():
        lots = Lot.objects.bulk_create(
            [
                Lot(
                    seller=seller,
                    title=f"{tag} ended {i}",
                    category=category,
                    start_price=5_000,
                    starts_at=now - timedelta(hours=1),
                    ends_at=now - timedelta(seconds=1),
                    scheduled_end=now - timedelta(seconds=1),
                    soft_close_seconds=0,
                    increment_table=table,
                    status=Lot.Status.LIVE,
                    current_price=5_000,
                    leader=buyer,
                    leader_max=5_000,
                    leader_alias=1,
                    bid_count=1,
                    alias_count=1,
                    seq=1,
                )
                for i in range(count)
            ]
        )
        BidderAlias.objects.bulk_create([BidderAlias(lot=lot, user=buyer, number=1) for lot in lots])
        Bid.objects.bulk_create(
            [
                Bid(
                    lot=lot,
                    bidder=buyer,
                    alias=1,
                    max_amount=5_000,
                    price_after=5_000,
                    leading_after=True,
                    seq=1,
                    created_at=now - timedelta(minutes=5),
                )
                for lot in lots
            ]
        )
    return [lot.pk for lot in lots]
