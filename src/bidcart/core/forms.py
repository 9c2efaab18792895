"""Form fields shared by every app's forms."""

from django import forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

from .numbers import MAX_BIGINT, InvalidNumber, parse_int


class WholeNumberFormField(forms.IntegerField):
    """Django's forms.IntegerField reading through `parse_int` (its own `int()` takes Unicode digits),
    with a max_value always set."""

    default_error_messages = {"invalid": _("Enter a whole number.")}

    def __init__(self, *, max_value=None, min_value=None, **kwargs):
        max_value = MAX_BIGINT if max_value is None else min(max_value, MAX_BIGINT)
        min_value = -MAX_BIGINT if min_value is None else max(min_value, -MAX_BIGINT)
        super().__init__(max_value=max_value, min_value=min_value, **kwargs)

    def to_python(self, value):
        if value in validators.EMPTY_VALUES:
            return None
        try:
            return parse_int(value, low=-MAX_BIGINT, high=MAX_BIGINT)
        except InvalidNumber as error:  # out of range: the field's own validators word it with its limits
            if error.code == "max_value":
                return self.max_value + 1
            if error.code == "min_value":
                return self.min_value - 1
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
