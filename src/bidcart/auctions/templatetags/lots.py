"""Template helpers of the auctions app: a notice's text in the reader's language."""

from django import template
from django.utils.translation import gettext as _

from bidcart.core.money import format_money

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
