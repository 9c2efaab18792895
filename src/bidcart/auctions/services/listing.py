"""Listing a lot: the seller's terms, the lot and its images; scheduled lots going live."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.catalog.models import Category
from bidcart.core import images as pictures
from bidcart.core.domain import Forbidden, Invalid
from bidcart.core.money import format_money

from .. import conf, engine, live, protocol, selectors
from ..models import Lot, LotImage
from .base import _after_commit, _lock


def _require_seller(user) -> None:
    if not (getattr(user, "is_authenticated", False) and user.can_sell):
        raise Forbidden(_("Only sellers can list lots."), code="not_a_seller")
    if not user.is_verified:
        raise Forbidden(_("Verify your email address and phone number before listing a lot."), code="not_verified")


def validate_terms(
    *,
    start_price,
    reserve_price,
    buy_now_price,
    starts_at: datetime,
    ends_at: datetime,
    soft_close_seconds: int,
    now: datetime,
) -> None:
    if not isinstance(start_price, int) or start_price < 1:
        raise Invalid(_("The start price must be a whole amount of at least 1."), code="start_price_invalid")
    if reserve_price is not None and reserve_price < start_price:
        raise Invalid(_("The reserve price cannot be below the start price."), code="reserve_below_start")
    if buy_now_price is not None:
        percent = int(conf.get("AUCTION_BUY_NOW_MIN_PERCENT"))
        if buy_now_price * 100 < start_price * percent:
            raise Invalid(
                _("Buy It Now must be at least %(percent)d%% of the start price (%(min)s or more).")
                % {"percent": percent, "min": format_money(-(-start_price * percent // 100), "KRW")},
                code="buy_now_too_low",
            )
        if reserve_price is not None and reserve_price > buy_now_price:
            raise Invalid(_("The reserve price cannot be above the Buy It Now price."), code="reserve_above_buy_now")
    if ends_at <= starts_at:
        raise Invalid(_("The end must be after the start."), code="ends_before_start")
    if ends_at <= now:
        raise Invalid(_("The end must be in the future."), code="ends_in_past")
    if ends_at - max(starts_at, now) > timedelta(days=int(conf.get("AUCTION_MAX_DURATION_DAYS"))):
        raise Invalid(
            _("A lot can run for at most %(days)d days.") % {"days": conf.get("AUCTION_MAX_DURATION_DAYS")},
            code="too_long",
        )
    if soft_close_seconds < 0 or soft_close_seconds > conf.SOFT_CLOSE_MAX_SECONDS:
        raise Invalid(
            _("The soft-close window must be between 0 and %(max)s seconds.")
            % {"max": f"{conf.SOFT_CLOSE_MAX_SECONDS:,}"},
            code="soft_close_invalid",
        )


def create_lot(
    seller,
    *,
    title: str,
    category: Category,
    start_price: int,
    ends_at: datetime,
    description: str = "",
    reserve_price: int | None = None,
    buy_now_price: int | None = None,
    starts_at: datetime | None = None,
    soft_close_seconds: int | None = None,
    currency: str = "KRW",
    images=(),
    requires_saved_method: bool = False,
) -> Lot:
    """List a lot. It is live at once when `starts_at` is now or past (or not given), scheduled otherwise.
    Its images go through the same checks and re-encoding as product images (core/images.py): every file
    is checked before anything is stored, and a refusal stores nothing. `requires_saved_method`: only
    bidders with a saved card may bid, and the winner is charged at the close (`autocharge`)."""
    _require_seller(seller)
    now = timezone.now()
    starts_at = starts_at or now
    title = (title or "").strip()
    if not title:
        raise Invalid(_("A lot needs a title."), code="title_required")
    currency = (currency or "KRW").upper()
    if currency not in conf.get("AUCTION_CURRENCIES"):
        raise Invalid(
            _("Lots can only be listed in %(list)s.") % {"list": ", ".join(conf.get("AUCTION_CURRENCIES"))},
            code="currency_unsupported",
        )
    soft_close_seconds = conf.soft_close() if soft_close_seconds is None else int(soft_close_seconds)
    validate_terms(
        start_price=start_price,
        reserve_price=reserve_price,
        buy_now_price=buy_now_price,
        starts_at=starts_at,
        ends_at=ends_at,
        soft_close_seconds=soft_close_seconds,
        now=now,
    )
    images = list(images)
    if len(images) > int(conf.get("AUCTION_MAX_IMAGES")):
        raise Invalid(_("At most %(n)d images.") % {"n": conf.get("AUCTION_MAX_IMAGES")}, code="too_many_images")
    extensions = [pictures.check(upload) for upload in images]
    table = engine.validate_table(conf.increment_table(currency))
    stored = []
    try:
        for upload, extension in zip(images, extensions):
            stored.append(pictures.store(upload, "lots", extension))
        with transaction.atomic():
            lot = Lot.objects.create(
                seller=seller,
                title=title[:200],
                description=description or "",
                category=category,
                currency=currency,
                start_price=start_price,
                reserve_price=reserve_price,
                buy_now_price=buy_now_price,
                requires_saved_method=bool(requires_saved_method),
                starts_at=starts_at,
                ends_at=ends_at,
                scheduled_end=ends_at,
                soft_close_seconds=soft_close_seconds,
                increment_table=[list(row) for row in table],
                status=Lot.Status.LIVE if starts_at <= now else Lot.Status.SCHEDULED,
            )
            LotImage.objects.bulk_create(
                [
                    LotImage(lot=lot, image=p.name, width=p.width, height=p.height, position=position, alt=title[:200])
                    for position, p in enumerate(stored)
                ]
            )
    except BaseException:
        pictures.delete([p.name for p in stored])  # nothing listed: no files left behind
        raise
    return lot


def start_scheduled_lots(batch: int = 100) -> int:
    """Scheduled lots whose start has come become live (bids don't wait for this: `place_bid` goes by
    the clock); the room hears it."""
    now = timezone.now()
    due = list(
        Lot.objects.filter(status=Lot.Status.SCHEDULED, starts_at__lte=now, ends_at__gt=now).values_list(
            "pk", flat=True
        )[:batch]
    )
    started = 0
    for pk in due:
        with transaction.atomic():
            lot = _lock(pk, skip_locked=True, status=Lot.Status.SCHEDULED)
            if lot is None:
                continue
            lot.status = Lot.Status.LIVE
            lot.seq += 1
            lot.save(update_fields=["status", "seq", "updated_at"])
            state = selectors.lot_state(lot)
            _after_commit(lambda pk=pk, state=state: live.publish(pk, protocol.started(state)))
            started += 1
    return started
