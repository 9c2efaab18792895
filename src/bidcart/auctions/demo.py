"""Demo lots, seeded once by `seed_demo` (after the accounts and catalog seeds): a few live lots with bids
from the demo buyers — one ending a few minutes after the first start, so a newcomer can trigger the soft
close — and one scheduled. All sold by seller@example.com."""

from datetime import timedelta

from django.utils import timezone

from bidcart.accounts.models import User
from bidcart.catalog.models import Category

from . import conf, engine
from .models import Bid, BidderAlias, Lot

# title, category slug, start, reserve, buy now, starts in, runs for, description, bids [(buyer email, max)]
LOTS = [
    ("빈티지 기계식 키보드 (1989)", "keyboards", 50_000, 120_000, None, timedelta(0), timedelta(minutes=6),
     "알프스 스위치를 쓴 1989년 기계식 키보드. 모든 키 동작 확인. 끝나기 2분 안에 입찰하면 2분 연장됩니다.",
     [("buyer@example.com", 60_000), ("buyer2@example.com", 75_000)]),
    ("Limited-run hand-drip coffee set", "coffee", 30_000, None, 60_000, timedelta(0), timedelta(minutes=45),
     "A ceramic dripper, a copper kettle and two cups, signed by the potter. Buy It Now until the first bid.",
     []),
    ("스튜디오 헤드폰 (미개봉)", "audio", 100_000, None, None, timedelta(0), timedelta(hours=3),
     "밀봉 상태의 스튜디오 모니터링 헤드폰. 정품 보증서 포함.",
     [("buyer2@example.com", 110_000), ("buyer@example.com", 150_000)]),
    ("Hand-thrown ceramic mug set", "kitchen", 20_000, None, 40_000, timedelta(hours=2), timedelta(hours=24),
     "Four hand-thrown stoneware mugs. Opens for bids in two hours.",
     []),
]


def seed() -> None:
    seller = User.objects.filter(email="seller@example.com").first()
    category = {c.slug: c for c in Category.objects.all()}
    if seller is None or not category:
        return
    now = timezone.now()
    table = [list(row) for row in engine.validate_table(conf.increment_table("KRW"))]
    for title, slug, start, reserve, buy_now, starts_in, runs, description, bids in LOTS:
        starts_at = now + starts_in
        lot = Lot.objects.create(
            seller=seller, title=title, description=description, category=category.get(slug) or next(iter(category.values())),
            start_price=start, reserve_price=reserve, buy_now_price=buy_now, starts_at=starts_at,
            ends_at=starts_at + runs, scheduled_end=starts_at + runs, soft_close_seconds=conf.soft_close(),
            increment_table=table, status=Lot.Status.LIVE if starts_in <= timedelta(0) else Lot.Status.SCHEDULED,
        )
        _bid(lot, bids, now)


def _bid(lot: Lot, bids, now) -> None:
    """Replay the demo bids through the engine, as place_bid would have (minutes ago, no soft close)."""
    rules, state = lot.rules(), lot.state()
    for i, (email, amount) in enumerate(bids):
        user = User.objects.filter(email=email).first()
        if user is None:
            continue
        outcome = engine.apply_bid(rules, state, user.pk, amount)
        state = outcome.state
        alias, _ = BidderAlias.objects.get_or_create(lot=lot, user=user, defaults={"number": lot.alias_count + 1})
        lot.alias_count = max(lot.alias_count, alias.number)
        lot.seq += 1
        Bid.objects.create(lot=lot, bidder=user, alias=alias.number, max_amount=amount, price_after=state.price,
                           leading_after=outcome.leading, seq=lot.seq, created_at=now - timedelta(minutes=len(bids) - i))
        if state.leader == user.pk:
            lot.leader_alias = alias.number
    lot.current_price, lot.leader_id, lot.leader_max, lot.second_max, lot.bid_count = (
        state.price, state.leader, state.leader_max, state.second_max, state.bid_count,
    )
    lot.save()
