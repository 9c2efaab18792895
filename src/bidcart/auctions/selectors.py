"""Reads shared by the pages, the API and the live room."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from bidcart.catalog.models import Category

from . import conf
from .models import (
    Bid,
    BidderAlias,
    ChatMessage,
    ChatReport,
    Lot,
    Notice,
    SecondChanceOffer,
    Strike,
    Watch,
    Win,
    alias_label,
)

HISTORY_SIZE = 20
BID_CONFIRM_FACTOR = 3
CHAT_SIZE = 50


def effective_status(lot: Lot, now: datetime | None = None) -> str:
    """The status a person should see: a scheduled lot whose start has passed is live, and an open lot
    whose end has passed is ended (until the closing sweep makes it sold or unsold, within seconds)."""
    now = now or timezone.now()
    if lot.status in (Lot.Status.SCHEDULED, Lot.Status.LIVE):
        if now >= lot.ends_at:
            return Lot.Status.ENDED
        if now >= lot.starts_at:
            return Lot.Status.LIVE
        return Lot.Status.SCHEDULED
    return lot.status


def lot_state(lot: Lot, now: datetime | None = None) -> dict:
    """The public state of a lot: the API's detail fields, the live room's snapshot and events."""
    now = now or timezone.now()
    status = effective_status(lot, now)
    open_ = status == Lot.Status.LIVE
    return {
        "id": lot.pk,
        "title": lot.title,
        "status": status,
        "currency": lot.currency,
        "start_price": lot.start_price,
        "current_price": lot.price,
        "min_next_bid": lot.min_next_bid,
        "bid_count": lot.bid_count,
        "leader": alias_label(lot.leader_alias),
        "has_reserve": lot.has_reserve,
        "reserve_met": lot.reserve_met,
        "buy_now_price": lot.buy_now_price,
        "buy_now_available": open_ and lot.buy_now_available,
        "starts_at": lot.starts_at.isoformat(),
        "ends_at": lot.ends_at.isoformat(),
        "scheduled_end": lot.scheduled_end.isoformat(),
        "extended": lot.extended,
        "soft_close_seconds": lot.soft_close_seconds,
        "final_price": lot.final_price,
        # what the room shows as "the price": the sale price once sold (a Buy It Now sale has no bids)
        "display_price": lot.final_price if status == Lot.Status.SOLD and lot.final_price is not None else lot.price,
        "sold_via": lot.sold_via,
        # a maximum above this asks "are you sure?" first (eBay does); the room's script and the plain form
        "confirm_above": lot.price * BID_CONFIRM_FACTOR,
        "server_time": now.isoformat(),
        "seq": lot.seq,
    }


def saved_card_choice(user, lot: Lot) -> dict:
    """The bidder's "charge my saved card if I win" on this lot (auctions.services.autocharge): whether the
    lot requires it, whether it is on, their default card, their saved addresses and the one chosen."""
    from bidcart.orders.models import SavedAddress
    from bidcart.payments.models import SavedPaymentMethod

    choice = {"required": lot.requires_saved_method, "on": False, "card": None, "addresses": [], "ship_to": None}
    if not getattr(user, "is_authenticated", False):
        return choice
    row = BidderAlias.objects.filter(lot=lot, user=user).first()
    choice["card"] = SavedPaymentMethod.objects.filter(
        user=user, state=SavedPaymentMethod.State.ACTIVE, is_default=True
    ).first()
    choice["on"] = row is not None and (row.pay_with_saved_method or lot.requires_saved_method)
    choice["addresses"] = list(SavedAddress.objects.filter(user=user).order_by("-is_default", "-id"))
    choice["ship_to"] = row.ship_to_id if row is not None else None
    return choice


def my_max(user, lot: Lot) -> int | None:
    """The user's own maximum on the lot (None: never bid). Only ever shown to that user."""
    if not getattr(user, "is_authenticated", False):
        return None
    if lot.leader_id == user.pk:
        return lot.leader_max
    return Bid.objects.filter(lot=lot, bidder=user).aggregate(m=Max("max_amount"))["m"]


def my_state(user, lot: Lot) -> dict:
    """What only this user sees about the lot: their maximum, whether they lead, their alias."""
    if not getattr(user, "is_authenticated", False):
        return {"my_max": None, "leading": False, "alias": None, "watching": False, "is_seller": False}
    alias = BidderAlias.objects.filter(lot=lot, user=user).values_list("number", flat=True).first()
    return {
        "my_max": my_max(user, lot),
        "leading": lot.leader_id == user.pk,
        "alias": alias_label(alias),
        "watching": Watch.objects.filter(lot=lot, user=user).exists(),
        "is_seller": lot.seller_id == user.pk,
    }


def history(lot: Lot, limit: int = HISTORY_SIZE) -> list[dict]:
    """Newest first: who bid (alias), who held the price once the bid was in (`leader`: the bidder, or the
    earlier maximum that answered it), the price as it stood after the bid, when. The newest row's leader
    is the panel's leader: both come from the same bids."""
    rows = list(
        Bid.objects.filter(lot=lot)
        .order_by("-id")
        .values("id", "alias", "price_after", "leading_after", "created_at", "seq")[:limit]
    )
    # A bid that didn't take the lead left the leader as it was: the alias of the latest leading bid before it.
    leaders, holder = [], None
    if rows and not rows[-1]["leading_after"]:
        holder = (
            Bid.objects.filter(lot=lot, id__lt=rows[-1]["id"], leading_after=True)
            .order_by("-id")
            .values_list("alias", flat=True)
            .first()
        )
    for r in reversed(rows):
        holder = r["alias"] if r["leading_after"] else holder
        leaders.append(holder)
    leaders.reverse()
    return [
        history_row(r["alias"], r["price_after"], r["leading_after"], r["created_at"], r["seq"], leader)
        for r, leader in zip(rows, leaders, strict=True)
    ]


def history_row(alias: int, price: int, leading: bool, at: datetime, seq: int, leader: int | None = None) -> dict:
    holder = alias if leading else leader
    return {
        "bidder": alias_label(alias),
        "leader": alias_label(holder),
        "price": price,
        "leading": leading,
        "at": at.isoformat(),
        "seq": seq,
    }


def chat_row(message: ChatMessage) -> dict:
    return {
        "id": message.pk,
        "author": alias_label(message.alias),
        "role": message.role,
        "text": message.text,
        "at": message.created_at.isoformat(),
        "seq": message.seq,
    }


def my_reports(user, lot: Lot) -> list[int]:
    """The chat messages on this lot the user has reported (the room shows them as reported, not again)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(ChatReport.objects.filter(reporter=user, message__lot=lot).values_list("message_id", flat=True))


def chat(lot: Lot, limit: int = CHAT_SIZE) -> list[dict]:
    """Visible messages, oldest first (the last `limit`)."""
    rows = list(ChatMessage.objects.filter(lot=lot, hidden_at__isnull=True).order_by("-id")[:limit])
    return [chat_row(m) for m in reversed(rows)]


# --- lists ----------------------------------------------------------------------------------------


def public_lots() -> QuerySet[Lot]:
    return (
        Lot.objects.exclude(status=Lot.Status.CANCELLED).select_related("category", "seller").prefetch_related("images")
    )


def filter_lots(
    qs: QuerySet[Lot],
    *,
    status: str = "",
    live: bool | None = None,
    ending_soon: bool = False,
    category: str = "",
    search: str = "",
    seller: int | None = None,
    now: datetime | None = None,
) -> QuerySet[Lot]:
    """`status`: scheduled / live / ended (sold, unsold or past its end); `ending_soon`: live and ending
    within the hour, soonest first; `category`: a slug, with its descendants; `search`: title and
    description."""
    now = now or timezone.now()
    open_q = Q(status__in=[Lot.Status.SCHEDULED, Lot.Status.LIVE])
    live_q = open_q & Q(starts_at__lte=now, ends_at__gt=now)
    if live or status == Lot.Status.LIVE:
        qs = qs.filter(live_q)
    elif live is False:
        qs = qs.exclude(live_q)
    if status == Lot.Status.SCHEDULED:
        qs = qs.filter(open_q, starts_at__gt=now)
    elif status == Lot.Status.ENDED:
        qs = qs.filter(Q(status__in=[Lot.Status.SOLD, Lot.Status.UNSOLD]) | (open_q & Q(ends_at__lte=now)))
    elif status in (Lot.Status.SOLD, Lot.Status.UNSOLD):
        qs = qs.filter(status=status)
    if ending_soon:
        qs = qs.filter(live_q, ends_at__lte=now + timedelta(hours=1)).order_by("ends_at", "id")
    if category:
        node = Category.objects.filter(slug=category).first()
        qs = qs.filter(category__path__startswith=node.path) if node else qs.none()
    if search:
        for word in search.split()[:5]:
            qs = qs.filter(Q(title__icontains=word) | Q(description__icontains=word))
    if seller:
        qs = qs.filter(seller_id=seller)
    return qs


def live_now(limit: int = 8) -> list[Lot]:
    return list(filter_lots(public_lots(), live=True).order_by("ends_at", "id")[:limit])


def my_bids(user) -> QuerySet[Lot]:
    """Lots the user bid on, with `my_max`, `my_bid_count` and `last_bid_at` annotated."""
    return (
        Lot.objects.filter(bids__bidder=user)
        .annotate(my_max=Max("bids__max_amount"), my_bid_count=Count("bids"), last_bid_at=Max("bids__created_at"))
        .select_related("category")
        .order_by("-last_bid_at")
    )


def standing(lot: Lot, user_id: int, now: datetime | None = None) -> str:
    """Where a bidder stands on a lot they bid on, in the words "내 입찰" uses: leading / outbid while it
    runs; won (낙찰) / lost (패찰) / unsold (유찰) / cancelled once it is over. A lot sold by Buy It Now
    to someone else is lost, even if this bidder led; an unsold lot is never "leading"."""
    status = effective_status(lot, now)
    if status == Lot.Status.SOLD:
        won = lot.sold_via != Lot.SoldVia.BUY_NOW and lot.leader_id == user_id
        return "won" if won else "lost"
    if status in (Lot.Status.UNSOLD, Lot.Status.CANCELLED):
        return status
    if status == Lot.Status.ENDED:  # past its end, the closing sweep is seconds away
        return "closing"
    return "leading" if lot.leader_id == user_id else "outbid"


def my_wins(user) -> QuerySet[Win]:
    return Win.objects.filter(user=user).select_related("lot", "order").order_by("-created_at")


def my_offers(user) -> QuerySet[SecondChanceOffer]:
    return SecondChanceOffer.objects.filter(user=user).select_related("lot").order_by("-created_at")


def watchlist(user) -> QuerySet[Lot]:
    return Lot.objects.filter(watchers__user=user).select_related("category").order_by("ends_at")


def seller_lots(user) -> QuerySet[Lot]:
    """The seller's lots, newest first, with what `can_relist` reads prefetched."""
    return (
        Lot.objects.filter(seller=user)
        .select_related("category")
        .prefetch_related("wins", "relists", "second_chance_offers")
        .order_by("-created_at")
    )


def can_relist(lot: Lot) -> bool:
    """Unsold, or sold but nobody paid and no second-chance offer is pending; relisted only once. Reads the
    lot's wins, relists and offers through `.all()`, so a list from `seller_lots` (prefetched) asks nothing
    more per lot."""
    if lot.status not in (Lot.Status.SOLD, Lot.Status.UNSOLD) or list(lot.relists.all()):
        return False
    if any(win.status in (Win.Status.AWAITING_PAYMENT, Win.Status.PAID) for win in lot.wins.all()):
        return False
    return not any(offer.status == SecondChanceOffer.Status.OPEN for offer in lot.second_chance_offers.all())


def my_auctions(user, now: datetime | None = None) -> dict:
    """Everything "My auctions" shows, in a fixed number of queries however many lots: bids (each lot with
    its `standing`), wins, second-chance offers, the watchlist, notices, the lots one sells (each with
    `relistable`), strikes and a bidding block. Reads only: the page's notices are marked read by a POST."""
    now = now or timezone.now()
    bids = list(my_bids(user)[:50])
    for lot in bids:
        lot.standing = standing(lot, user.pk, now)
    selling = list(seller_lots(user)[:50]) if user.can_sell else []
    for lot in selling:
        lot.relistable = can_relist(lot)
    shown = notices(user)
    return {
        "bids": bids,
        "wins": list(my_wins(user)[:50]),
        "offers": list(my_offers(user)[:20]),
        "watching": list(watchlist(user)[:50]),
        "notices": shown,
        "notices_up_to": max((n.pk for n in shown), default=None),
        "notices_seen_at": now.isoformat(),  # an outbid notice updated after this stays unread
        "unread": any(n.read_at is None for n in shown),
        "selling": selling,
        "strikes": strike_count(user),
        "blocked_until": blocked_until(user, now),
    }


def notices(user, limit: int = 50) -> list[Notice]:
    return list(Notice.objects.filter(user=user).select_related("lot")[:limit])


def unread_notices(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def strike_count(user) -> int:
    return Strike.objects.filter(user=user, lifted_at__isnull=True).count()


def blocked_until(user, now: datetime | None = None) -> datetime | None:
    """Bidding is blocked for AUCTION_BLOCK_DAYS after the strike that brings a user's active (not
    lifted) strikes to AUCTION_STRIKES_TO_BLOCK or more."""
    now = now or timezone.now()
    limit = int(conf.get("AUCTION_STRIKES_TO_BLOCK"))
    active = list(
        Strike.objects.filter(user=user, lifted_at__isnull=True)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(active) < limit:
        return None
    until = active[0] + timedelta(days=int(conf.get("AUCTION_BLOCK_DAYS")))
    return until if until > now else None
