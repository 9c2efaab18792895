"""Template helpers of the auctions app: a notice's text and a lot card's time left in the reader's language."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.core.money import format_money

from ..selectors import effective_status

register = template.Library()


@register.filter
def notice_text(notice) -> str:
    data = notice.data or {}
    title = notice.lot.title if notice.lot_id and notice.lot else ""
    price = format_money(data["price"], data.get("currency", "KRW")) if "price" in data else ""
    texts = {
        "outbid": _("You were outbid on %(title)s: the price is now %(price)s."),
        "won": _("You won %(title)s for %(price)s. Give your address and pay by the deadline."),
        "sold": _("%(title)s sold for %(price)s."),
        "unsold": _("%(title)s ended without a sale; you can relist it."),
        "ending_soon": _("%(title)s, on your watchlist, ends soon."),
        "strike": _("A win you did not pay for (%(title)s) was recorded as a strike."),
        "second_chance": _("Second chance: %(title)s is yours for %(price)s, your own maximum, if you accept in time."),
        "unpaid": _("The winner of %(title)s did not pay."),
        "relist": _("%(title)s can be relisted with one click."),
        "cancelled": _("%(title)s was cancelled: %(reason)s"),
    }
    text = texts.get(notice.kind, "%(title)s")
    return text % {"title": title, "price": price, "reason": data.get("reason", "")}


@register.filter
def time_left(lot) -> str:
    """What a lot card says about time: "2시간 15분 남음" while live, when it starts while scheduled."""
    now = timezone.now()
    status = effective_status(lot, now)
    if status == "scheduled":
        return _("Starts %(at)s") % {"at": timezone.localtime(lot.starts_at).strftime("%m-%d %H:%M")}
    if status != "live":
        return _("Ended")
    minutes = int((lot.ends_at - now).total_seconds() // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return _("%(d)sd %(h)sh left") % {"d": days, "h": hours}
    if hours:
        return _("%(h)sh %(m)sm left") % {"h": hours, "m": mins}
    if mins:
        return _("%(m)sm left") % {"m": mins}
    return _("Less than a minute left")
