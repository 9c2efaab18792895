"""Saved payment methods (billing keys) JSON API, the buyer's own.

- `GET /api/v1/payment-methods/` the buyer's cards: provider, brand, last four digits, default flag.
- `POST /api/v1/payment-methods/` `{provider}` → 201 `{method, next}`: a pending method and where the buyer
  registers the card (the provider's page or browser SDK, as for a payment).
- `POST /api/v1/payment-methods/{id}/confirm/` `{params}` back from the provider, `params` the query the
  browser came back with (PortOne V2's `billingKey`, KakaoPay's `pg_token`, PayPal's `approval_token_id`):
  a hint only, the key is read from the provider.
- `POST /api/v1/payment-methods/{id}/default/` make it the default.
- `DELETE /api/v1/payment-methods/{id}/` delete it (at the provider too) → 204.
- `POST /api/v1/orders/{number}/payments/saved/` `{method, key}` → 201 the payment: charge the order to a
  saved card, once per `key` (the same key again answers the same payment).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.core.openapi import error_responses
from bidcart.core.serializers import StrictSerializer
from bidcart.orders import selectors as order_selectors

from . import billing, selectors
from .api import NextSerializer, PaymentSerializer
from .models import Provider, SavedPaymentMethod
from .views import site_url


class MethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedPaymentMethod
        fields = ["id", "provider", "brand", "last4", "state", "is_default", "created_at"]


class AddSerializer(StrictSerializer):
    provider = serializers.ChoiceField(choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the model's (name, label) pairs, in its order: with every provider keeping cards, the schema
        # names one provider enum instead of two colliding ones
        offered = set(billing.billing_providers())
        self.fields["provider"].choices = [(name, label) for name, label in Provider.choices if name in offered]


class ConfirmMethodSerializer(StrictSerializer):
    params = serializers.DictField(
        child=serializers.CharField(max_length=500, allow_blank=True),
        required=False,
        help_text="the query string the provider sent the browser back with",
    )


class AddedSerializer(serializers.Serializer):
    method = MethodSerializer()
    next = NextSerializer()


class ChargeSerializer(StrictSerializer):
    method = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="a saved method's id")
    key = serializers.CharField(max_length=200, help_text="names this charge: the same key never charges twice")


def _next(nxt) -> dict:
    return (
        {"type": nxt.type, "url": nxt.url}
        if nxt.type == "redirect"
        else {"type": nxt.type, "script": nxt.script, "params": nxt.params}
    )


class MethodsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MethodSerializer(many=True))
    def get(self, request):
        return Response(MethodSerializer(selectors.saved_methods(request.user), many=True).data)

    @extend_schema(request=AddSerializer, responses={201: AddedSerializer, **error_responses(502)})
    def post(self, request):
        data = AddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method, nxt = billing.start_saving_method(
            request.user, provider=data.validated_data["provider"], site_url=site_url(request)
        )
        return Response({"method": MethodSerializer(method).data, "next": _next(nxt)}, status=status.HTTP_201_CREATED)


class MethodDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None, **error_responses(502)})
    def delete(self, request, pk):
        billing.delete_saved_method(request.user, pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConfirmMethodView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ConfirmMethodSerializer, responses={200: MethodSerializer, **error_responses(502)})
    def post(self, request, pk):
        data = ConfirmMethodSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = billing.confirm_saved_method(request.user, pk, params=data.validated_data.get("params") or {})
        return Response(MethodSerializer(method).data)


class DefaultMethodView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=MethodSerializer)
    def post(self, request, pk):
        return Response(MethodSerializer(billing.set_default_method(request.user, pk)).data)


class ChargeSavedView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ChargeSerializer, responses={201: PaymentSerializer})
    def post(self, request, number):
        order = order_selectors.user_order(request.user, number)
        if order is None:
            raise NotFound
        data = ChargeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = selectors.saved_method(request.user, data.validated_data["method"])
        if method is None:
            raise NotFound
        payment = billing.charge_saved_method(order, method, key=data.validated_data["key"], site_url=site_url(request))
        return Response(PaymentSerializer(payment, context={"staff": False}).data, status=status.HTTP_201_CREATED)
