"""The watchlist and the notices: the inbox, the ending-soon sweep, and the notices that also go out by email."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bidcart.core.mail import send_user_email
from bidcart.core.site import absolute_url

from .. import conf
from ..models import Lot, Notice, Watch
from .base import OPEN, _no_such_lot


def watch(user, lot_id: int) -> bool:
    if not Lot.objects.filter(pk=lot_id).exists():
        raise _no_such_lot()
    try:
        with transaction.atomic():
            Watch.objects.create(user=user, lot_id=lot_id)
    except IntegrityError:
        pass
    return True


def unwatch(user, lot_id: int) -> bool:
    Watch.objects.filter(user=user, lot_id=lot_id).delete()
    return False


def notify(user_id: int, lot_id: int | None, kind: str, **data) -> Notice:
    return Notice.objects.create(user_id=user_id, lot_id=lot_id, kind=kind, data=data)


def mark_notices_read(user, up_to: int | None = None, seen_at: datetime | None = None) -> int:
    """The user's unread notices are read (`up_to`: those up to that notice id, the newest a page showed, so a
    notice that came in after the page was drawn stays unread; `seen_at`: when the page was drawn, so an
    unread outbid notice updated since, with a new price the page did not show, stays unread too). A read
    notice is not emailed."""
    qs = Notice.objects.filter(user=user, read_at__isnull=True)
    if up_to is not None:
        qs = qs.filter(pk__lte=up_to)
    if seen_at is not None:
        qs = qs.filter(created_at__lte=seen_at)
    return qs.update(read_at=timezone.now())


def send_ending_soon(batch: int = 100) -> int:
    """Watchers hear AUCTION_ENDING_SOON_MINUTES before the end, once per lot."""
    now = timezone.now()
    lead = timedelta(minutes=int(conf.get("AUCTION_ENDING_SOON_MINUTES")))
    due = list(
        Lot.objects.filter(
            status__in=OPEN, ending_soon_sent=False, starts_at__lte=now, ends_at__gt=now, ends_at__lte=now + lead
        ).values_list("pk", flat=True)[:batch]
    )
    sent = 0
    for pk in due:
        with transaction.atomic():
            if not Lot.objects.filter(pk=pk, ending_soon_sent=False).update(ending_soon_sent=True):
                continue  # another sweep took it
            users = Watch.objects.filter(lot_id=pk).values_list("user_id", flat=True)
            Notice.objects.bulk_create([Notice(user_id=u, lot_id=pk, kind=Notice.Kind.ENDING_SOON) for u in users])
            sent += 1
    return sent


def email_notices(batch: int = 100) -> int:
    """The notices of AUCTION_EMAIL_NOTICES (outbid, ending soon) also go out by email: once per notice, from
    a sweep rather than the bid's request. An outbid notice waits AUCTION_OUTBID_EMAIL_DELAY_SECONDS after the
    latest outbid, and none is sent if by then it was read, its bidder leads again or the lot is over."""
    now = timezone.now()
    delay = timedelta(seconds=int(conf.get("AUCTION_OUTBID_EMAIL_DELAY_SECONDS")))
    due = list(
        Notice.objects.filter(
            kind__in=list(conf.get("AUCTION_EMAIL_NOTICES")), emailed_at__isnull=True, read_at__isnull=True
        )
        .exclude(kind=Notice.Kind.OUTBID, created_at__gt=now - delay)
        .select_related("user", "lot")
        .order_by("created_at")[:batch]
    )
    sent = 0
    for notice in due:
        if not Notice.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(emailed_at=now):
            continue  # another sweep took it
        lot = notice.lot
        if lot is None or lot.status not in OPEN or lot.ends_at <= now:
            continue
        if notice.kind == Notice.Kind.OUTBID:
            if lot.leader_id == notice.user_id:
                continue
            notice.data = {"price": lot.current_price, "currency": lot.currency}  # the price as it stands now
        url = absolute_url(reverse("auctions:lot", args=[lot.pk]))
        sent += send_user_email(notice.user, "auctions/email/notice", {"notice": notice, "lot": lot, "url": url})
    return sent
