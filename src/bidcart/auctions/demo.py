"""Demo lots, seeded once by `seed_demo` (after the accounts and catalog seeds): a few live lots with bids
from the demo buyers — live for a while already, their bids placed after they opened — and one scheduled.
One lot always ends within minutes (`keep_one_ending_soon`, a sweep), so a newcomer arriving at any time can
trigger the soft close. All sold by seller@example.com."""

from datetime import timedelta

from django.utils import timezone

from bidcart.accounts.models import User
from bidcart.catalog.models import Category

from . import conf, engine
from .models import Bid, BidderAlias, Lot

LIVE_FOR = timedelta(hours=1)  # how long the seeded live lots have been open
ENDING_SOON = timedelta(minutes=10)

# title, category slug, start, reserve, buy now, starts in, runs for, description, bids [(buyer email, max)]
LOTS = [
    (
        "빈티지 기계식 키보드 (1989)",
        "keyboards",
        50_000,
        120_000,
        None,
        timedelta(0),
        timedelta(minutes=6),
        "알프스 스위치를 쓴 1989년 기계식 키보드. 모든 키 동작 확인. 끝나기 2분 안에 입찰하면 2분 연장됩니다.",
        [("buyer@example.com", 60_000), ("buyer2@example.com", 75_000)],
    ),
    (
        "Limited-run hand-drip coffee set",
        "coffee",
        30_000,
        None,
        60_000,
        timedelta(0),
        timedelta(minutes=45),
        "A ceramic dripper, a copper kettle and two cups, signed by the potter. Buy It Now until the first bid.",
        [],
    ),
    (
        "스튜디오 헤드폰 (미개봉)",
        "audio",
        100_000,
        None,
        None,
        timedelta(0),
        timedelta(hours=3),
        "밀봉 상태의 스튜디오 모니터링 헤드폰. 정품 보증서 포함.",
        [("buyer2@example.com", 110_000), ("buyer@example.com", 150_000)],
    ),
    (
        "Hand-thrown ceramic mug set",
        "kitchen",
        20_000,
        None,
        40_000,
        timedelta(hours=2),
        timedelta(hours=24),
        "Four hand-thrown stoneware mugs. Opens for bids in two hours.",
        [],
    ),
]


def seed() -> None:
    seller = User.objects.filter(email="seller@example.com").first()
    category = {c.slug: c for c in Category.objects.all()}
    if seller is None or not category:
        return
    now = timezone.now()
    table = [list(row) for row in engine.validate_table(conf.increment_table("KRW"))]
    for row in LOTS:
        _create(seller, category, table, now, row)


def _create(seller, category, table, now, row) -> Lot:
    title, slug, start, reserve, buy_now, starts_in, runs, description, bids = row
    live = starts_in <= timedelta(0)
    # a live lot opened a while ago (its bids come after that) and ends `runs` from now
    starts_at = now - LIVE_FOR if live else now + starts_in
    ends_at = now + runs if live else starts_at + runs
    lot = Lot.objects.create(
        seller=seller,
        title=title,
        description=description,
        category=category.get(slug) or next(iter(category.values())),
        start_price=start,
        reserve_price=reserve,
        buy_now_price=buy_now,
        starts_at=starts_at,
        ends_at=ends_at,
        scheduled_end=ends_at,
        soft_close_seconds=conf.soft_close(),
        increment_table=table,
        status=Lot.Status.LIVE if live else Lot.Status.SCHEDULED,
    )
    _bid(lot, bids, now)
    return lot


def keep_one_ending_soon(now=None) -> Lot | None:
    """Once the demo is seeded: while no demo lot is live and ending within ENDING_SOON, list the first demo
    lot again, ending in ENDING_SOON (the one a newcomer can bid on in its last minutes)."""
    from bidcart.core.models import DemoSeed

    now = now or timezone.now()
    seller = User.objects.filter(email="seller@example.com").first()
    if seller is None or not DemoSeed.objects.filter(app="auctions").exists():
        return None
    soon = Lot.objects.filter(
        seller=seller,
        status__in=[Lot.Status.LIVE, Lot.Status.SCHEDULED],
        starts_at__lte=now,
        ends_at__gt=now,
        ends_at__lte=now + ENDING_SOON,
    )
    if soon.exists():
        return None
    table = [list(row) for row in engine.validate_table(conf.increment_table("KRW"))]
    title, slug, start, reserve, buy_now, _starts_in, _runs, description, bids = LOTS[0]
    row = (title, slug, start, reserve, buy_now, timedelta(0), ENDING_SOON, description, bids)
    return _create(seller, {c.slug: c for c in Category.objects.all()}, table, now, row)


def _bid(lot: Lot, bids, now) -> None:
    """Replay the demo bids through the engine, as place_bid would have: spread between the lot's start and
    now (no soft close)."""
    rules, state = lot.rules(), lot.state()
    step = (now - lot.starts_at) / (len(bids) + 1) if bids else timedelta(0)
    for i, (email, amount) in enumerate(bids):
        user = User.objects.filter(email=email).first()
        if user is None:
            continue
        outcome = engine.apply_bid(rules, state, user.pk, amount)
        state = outcome.state
        alias, _ = BidderAlias.objects.get_or_create(lot=lot, user=user, defaults={"number": lot.alias_count + 1})
        lot.alias_count = max(lot.alias_count, alias.number)
        lot.seq += 1
        Bid.objects.create(
            lot=lot,
            bidder=user,
            alias=alias.number,
            max_amount=amount,
            price_after=state.price,
            leading_after=outcome.leading,
            seq=lot.seq,
            created_at=lot.starts_at + step * (i + 1),
        )
        if state.leader == user.pk:
            lot.leader_alias = alias.number
    lot.current_price, lot.leader_id, lot.leader_max, lot.second_max, lot.bid_count = (
        state.price,
        state.leader,
        state.leader_max,
        state.second_max,
        state.bid_count,
    )
    lot.save()
