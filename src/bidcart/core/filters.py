"""Query-string filters shared by the API's filter sets: numbers read by core.numbers' rule."""

from django_filters import rest_framework as filters

from .forms import WholeNumberFormField
from .numbers import MAX_ID


class WholeNumberFilter(filters.NumberFilter):
    """A whole number in the query string: ASCII digits within the column's range, else a 400."""

    field_class = WholeNumberFormField


class IdFilter(WholeNumberFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
