from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from . import couriers
from .models import Shipment, Status


class AddressForm(forms.Form):
    recipient = forms.CharField(label=_("Recipient"), max_length=100)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        validators=[RegexValidator(r"^\+?[0-9][0-9\- ]{7,18}$", _("Enter a phone number, e.g. 010-1234-5678."))],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    postcode = forms.CharField(
        label=_("Postcode"),
        max_length=10,
        validators=[RegexValidator(r"^[0-9]{5}$", _("A postcode is 5 digits."))],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    address1 = forms.CharField(
        label=_("Address"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    address2 = forms.CharField(
        label=_("Address details"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    delivery_note = forms.CharField(
        label=_("Delivery note"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "delivery-notes", "placeholder": _("e.g. Leave it at the door")}),
    )


# 배송 요청사항 the form suggests (a <datalist>: the buyer may also type their own)
DELIVERY_NOTES = [
    _("Please leave it at the door."),
    _("Please leave it with the security office."),
    _("Please put it in the parcel locker."),
    _("Please call before delivery."),
]


class CheckoutForm(AddressForm):
    save_address = forms.BooleanField(label=_("Save to my addresses"), required=False, initial=True)
    make_default = forms.BooleanField(label=_("Make it my default address"), required=False)


class AdvanceForm(forms.Form):
    # a seller's shipment step or staff's order status; the service decides what is allowed from here
    status = forms.ChoiceField(
        choices=Status.choices + [(s, label) for s, label in Shipment.Status.choices if s not in Status.values]
    )
    courier = forms.ChoiceField(label=_("Courier"), choices=[("", "—")] + couriers.CHOICES, required=False)
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
