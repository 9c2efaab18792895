from rest_framework import serializers

from .numbers import MAX_AMOUNT, MAX_BIGINT, MAX_ID, InvalidNumber, parse_int


class StrictSerializerMixin:
    """Refuses fields the serializer does not know, so a typo is a 400 rather than silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - known)
            if unknown:
                raise serializers.ValidationError(
                    {name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")] for name in unknown}
                )
        return super().to_internal_value(data)


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    pass


# --- whole numbers: core.numbers' rule as DRF fields ----------------------------------------------------


class WholeNumberField(serializers.IntegerField):
    """DRF's IntegerField reading through `parse_int`: no Unicode digits, no floats, no "1.0", and a
    `max_value` always set (the column's range by default), so nothing can overflow the database."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", MAX_BIGINT)
        kwargs.setdefault("min_value", -MAX_BIGINT)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return parse_int(data, low=-MAX_BIGINT, high=MAX_BIGINT)
        except InvalidNumber as error:
            if error.code == "max_value":
                self.fail("max_value", max_value=self.max_value)
            if error.code == "min_value":
                self.fail("min_value", min_value=self.min_value)
            self.fail("invalid")


class AmountField(WholeNumberField):
    """An amount in minor units: 1..MAX_AMOUNT unless told otherwise."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        super().__init__(**kwargs)


class IdField(WholeNumberField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
