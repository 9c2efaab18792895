import json

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Category, Product


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["name", "category", "brand", "description", "base_price", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("path")
        self.fields["base_price"].min_value = 0


class VariantForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    attributes = forms.CharField(
        label=_("Attributes"), required=False, help_text=_('For example: size=M, colour=검정'), max_length=500
    )
    price = forms.IntegerField(label=_("Price"), min_value=0)
    stock = forms.IntegerField(label=_("Stock"), min_value=0, initial=0)

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
    variant = forms.IntegerField(widget=forms.HiddenInput)
    expected = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    stock = forms.IntegerField(label=_("Stock"), min_value=0)
