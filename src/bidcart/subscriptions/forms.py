from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Interval


class SubscribeForm(forms.Form):
    variant = forms.TypedChoiceField(label=_("Option"), coerce=int)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=99, initial=1)
    interval = forms.ChoiceField(label=_("How often"), widget=forms.RadioSelect)
    first_date = forms.DateField(label=_("First delivery"), widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.TypedChoiceField(label=_("Card"), coerce=int, widget=forms.RadioSelect)
    recipient = forms.CharField(label=_("Recipient"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=30)
    postcode = forms.CharField(label=_("Postcode"), max_length=10)
    address1 = forms.CharField(label=_("Address"), max_length=200)
    address2 = forms.CharField(label=_("Address details"), max_length=200, required=False)
    delivery_note = forms.CharField(label=_("Delivery note"), max_length=100, required=False)

    def __init__(self, *args, variants=(), intervals=(), methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(v.pk, v.label or _("Standard")) for v in variants]
        self.fields["interval"].choices = [(code, Interval(code).label) for code in intervals]
        self.fields["method"].choices = [
            (m.pk, f"{m.brand or m.get_provider_display()} ···· {m.last4}") for m in methods
        ]


class DateForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
