from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bidcart.catalog.models import Category
from bidcart.core.forms import WholeNumberFormField
from bidcart.core.numbers import MAX_AMOUNT

from . import conf

DURATIONS = [
    (10, _("10 minutes")),
    (30, _("30 minutes")),
    (60, _("1 hour")),
    (180, _("3 hours")),
    (720, _("12 hours")),
    (1440, _("1 day")),
    (4320, _("3 days")),
    (10080, _("7 days")),
]


class LotForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.order_by("path"))
    start_price = WholeNumberFormField(label=_("Start price (won)"), min_value=1, max_value=MAX_AMOUNT)
    reserve_price = WholeNumberFormField(
        label=_("Reserve price (won, hidden, optional)"), min_value=1, max_value=MAX_AMOUNT, required=False
    )
    buy_now_price = WholeNumberFormField(
        label=_("Buy It Now price (won, optional)"),
        min_value=1,
        max_value=MAX_AMOUNT,
        required=False,
        help_text=_("At least 1.3 times the start price. Offered until the first bid, or while the reserve is unmet."),
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at (Korea time; empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration = forms.TypedChoiceField(label=_("Runs for"), choices=DURATIONS, coerce=int, initial=1440)
    soft_close_seconds = WholeNumberFormField(
        label=_("Soft-close window (seconds)"),
        min_value=0,
        max_value=conf.SOFT_CLOSE_MAX_SECONDS,
        initial=conf.DEFAULTS["AUCTION_SOFT_CLOSE_SECONDS"],
        help_text=_("A bid this close to the end moves the end to the bid's time plus this window. 0: a hard close."),
    )
    requires_saved_method = forms.BooleanField(
        label=_("Only bidders with a saved card"),
        required=False,
        help_text=_("The winner's saved card is charged automatically when the auction closes."),
    )

    def terms(self) -> dict:
        data = dict(self.cleaned_data)
        starts_at = data.pop("starts_at") or None
        duration = data.pop("duration")
        data["starts_at"] = starts_at
        data["ends_at"] = (starts_at or timezone.now()) + timedelta(minutes=duration)
        return data
