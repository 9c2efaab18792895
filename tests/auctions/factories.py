"""Builders for auction tests."""

import itertools
from datetime import timedelta

from django.utils import timezone

from bidcart.auctions import services
from bidcart.auctions.models import Lot
from tests.factories import PASSWORD, api_for, make_category, make_user  # noqa: F401  (re-exported)

_seq = itertools.count(1)


def bidder(email=None, **extra):
    """A verified user (email and phone): who may bid."""
    n = next(_seq)
    # numbers from +82109…, apart from the demo accounts' (+82100000000N): one verified phone per account
    phone = extra.pop("phone", f"+82109{n:07d}")
    return make_user(email or f"bidder{n}@example.com", phone=phone, phone_verified_at=timezone.now(), **extra)


def seller(email=None, **extra):
    return bidder(email, seller=True, **extra)


def make_lot(
    owner=None,
    *,
    start=10_000,
    reserve=None,
    buy_now=None,
    starts_in=timedelta(0),
    runs=timedelta(hours=1),
    soft_close=120,
    category=None,
    title="Vintage camera",
    **extra,
) -> Lot:
    owner = owner or seller()
    now = timezone.now()
    lot = services.create_lot(
        owner,
        title=title,
        category=category or make_category(),
        start_price=start,
        reserve_price=reserve,
        buy_now_price=buy_now,
        starts_at=now + starts_in if starts_in else None,
        ends_at=now + starts_in + runs,
        soft_close_seconds=soft_close,
        **extra,
    )
    return lot


def end_now(lot: Lot) -> Lot:
    """Move a lot's end into the past (as if its time ran out)."""
    past = timezone.now() - timedelta(seconds=1)
    Lot.objects.filter(pk=lot.pk).update(ends_at=past, starts_at=min(lot.starts_at, past - timedelta(minutes=1)))
    lot.refresh_from_db()
    return lot


def numbers_in(value) -> set:
    """Every number in a JSON-like message, including digit-only strings (a timestamp's digits are not one)."""
    if isinstance(value, dict):
        return set().union(*(numbers_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(numbers_in(v) for v in value)) if value else set()
    if isinstance(value, str):
        return {int(value)} if value.isdigit() else set()
    return {value} if isinstance(value, int) and not isinstance(value, bool) else set()
