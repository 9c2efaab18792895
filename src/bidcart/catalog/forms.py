import json

from django import forms
from django.utils.translation import gettext_lazy as _

from bidcart.core import images
from bidcart.core.domain import DomainError
from bidcart.core.forms import WholeNumberFormField
from bidcart.core.numbers import MAX_AMOUNT, MAX_ID, MAX_INT

from .models import Category, Product


class MultipleImageInput(forms.FileInput):
    allow_multiple_selected = True


class ImagesField(forms.FileField):
    """Several image files in one input; each is checked for real JPEG / PNG / WebP content and limits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": images.ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        single = super().clean
        cleaned = [single(f, initial) for f in files if f]
        problems = []
        for upload in cleaned:
            try:
                images.check(upload)
            except DomainError as error:
                problems.append(forms.ValidationError(error.detail, code=error.code))
        if problems:
            raise forms.ValidationError(problems)
        if len(cleaned) > images.max_count():
            raise forms.ValidationError(
                _("At most %(limit)d images per product.") % {"limit": images.max_count()}, code="too_many_images"
            )
        return cleaned


class ProductForm(forms.ModelForm):
    images = ImagesField(label=_("Add images"))
    base_price = WholeNumberFormField(
        label=_("base price"), help_text=_("In minor units (KRW: won)."), min_value=0, max_value=MAX_AMOUNT
    )

    class Meta:
        model = Product
        fields = ["name", "category", "brand", "description", "base_price", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("path")
        self.fields["images"].help_text = _(
            "JPEG, PNG or WebP, up to %(size)s MB and %(side)d pixels a side each; several at once. The first image "
            "is the cover."
        ) % {"size": f"{images.max_bytes() / (1024 * 1024):g}", "side": images.max_side()}


class VariantForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    attributes = forms.CharField(
        label=_("Attributes"), required=False, help_text=_("For example: size=M, colour=검정"), max_length=500
    )
    price = WholeNumberFormField(label=_("Price"), min_value=0, max_value=MAX_AMOUNT)
    stock = WholeNumberFormField(label=_("Stock"), min_value=0, max_value=MAX_INT, initial=0)

    def clean_attributes(self):
        raw = self.cleaned_data["attributes"].strip()
        if not raw:
            return {}
        if raw.startswith("{"):
            try:
                value = json.loads(raw)
            except ValueError:
                raise forms.ValidationError(_("Write attributes as name=value pairs separated by commas.")) from None
            if not isinstance(value, dict):
                raise forms.ValidationError(_("Write attributes as name=value pairs separated by commas."))
            return {str(k): str(v) for k, v in value.items()}
        pairs = {}
        for part in raw.split(","):
            if "=" not in part:
                raise forms.ValidationError(_("Write attributes as name=value pairs separated by commas."))
            key, value = part.split("=", 1)
            if not key.strip():
                raise forms.ValidationError(_("Write attributes as name=value pairs separated by commas."))
            pairs[key.strip()] = value.strip()
        return pairs


class StockForm(forms.Form):
    variant = WholeNumberFormField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    expected = WholeNumberFormField(widget=forms.HiddenInput, min_value=0, max_value=MAX_INT)
    stock = WholeNumberFormField(label=_("Stock"), min_value=0, max_value=MAX_INT)
