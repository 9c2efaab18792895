"""Payments JSON API.

- `POST /api/v1/orders/{number}/payments/` `{provider, method?}` → `{merchant_uid, status, amount, currency,
  next: {type: "redirect", url} | {type: "client", script, params}}` (the buyer of the order).
- `GET /api/v1/payments/{merchant_uid}/` status, amounts, refunds and the outcome events (buyer or staff).
- `POST /api/v1/payments/{merchant_uid}/confirm/` `{params}`: an app that caught the provider's return
  passes its query parameters; the same confirmation as the browser return.
- `POST /api/v1/payments/{merchant_uid}/refunds/` `{amount, reason, restock?, lines?}` (staff).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.core.openapi import error_responses
from bidcart.core import numbers
from bidcart.core.serializers import AmountField, StrictSerializer, WholeNumberField
from bidcart.orders import selectors as order_selectors

from . import providers, selectors, services
from .models import Method, Payment, PaymentEvent, Refund
from .views import is_mobile, site_url


class StartSerializer(StrictSerializer):
    provider = serializers.ChoiceField(choices=[])
    method = serializers.ChoiceField(choices=Method.choices, default=Method.CARD)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = providers.enabled()


class NextSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["redirect", "client"])
    url = serializers.CharField(required=False)
    script = serializers.CharField(required=False)
    params = serializers.DictField(required=False)


class StartedSerializer(serializers.Serializer):
    merchant_uid = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    next = NextSerializer()


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentEvent
        fields = ["type", "from_status", "to_status", "amount", "message", "created_at"]


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "amount", "reason", "status", "restock", "lines", "failure", "created_at", "completed_at"]


class PaymentSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    captured = serializers.SerializerMethodField()
    refunded = serializers.SerializerMethodField()
    refundable = serializers.SerializerMethodField()
    refunds = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "merchant_uid", "order", "provider", "method", "status", "amount", "currency", "provider_amount",
            "provider_currency", "captured", "refunded", "refundable", "vbank", "failure", "created_at", "paid_at",
            "refunds", "events",
        ]

    def _totals(self, payment) -> dict:
        if not hasattr(payment, "_totals"):
            payment._totals = payment.totals()
        return payment._totals

    def get_captured(self, payment) -> int:
        return self._totals(payment)["captured"]

    def get_refunded(self, payment) -> int:
        return self._totals(payment)["refunded"]

    def get_refundable(self, payment) -> int:
        return self._totals(payment)["refundable"]

    @extend_schema(responses=RefundSerializer(many=True))
    def get_refunds(self, payment) -> list:
        return RefundSerializer(selectors.refunds(payment), many=True).data

    @extend_schema(responses=EventSerializer(many=True))
    def get_events(self, payment) -> list:
        return EventSerializer(selectors.buyer_events(payment), many=True).data


class PaymentSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["merchant_uid", "provider", "method", "status", "amount", "currency", "failure", "created_at", "paid_at"]


class OrderPaymentsView(APIView):
    """An order's payment attempts (the buyer's), and starting a new one."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PaymentSummarySerializer(many=True))
    def get(self, request, number):
        order = order_selectors.user_order(request.user, number)
        if order is None:
            raise NotFound
        return Response(PaymentSummarySerializer(selectors.order_payments(order), many=True).data)

    @extend_schema(request=StartSerializer, responses={201: StartedSerializer, **error_responses(502)})
    def post(self, request, number):
        order = order_selectors.user_order(request.user, number)
        if order is None:
            raise NotFound
        data = StartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment, nxt = services.start_payment(
            request.user, order, provider=data.validated_data["provider"], method=data.validated_data["method"],
            mobile=is_mobile(request), site_url=site_url(request),
        )
        body = {"type": nxt.type, "url": nxt.url} if nxt.type == "redirect" else {"type": nxt.type, "script": nxt.script, "params": nxt.params}
        return Response({"merchant_uid": payment.merchant_uid, "status": payment.status, "amount": payment.amount,
                         "currency": payment.currency, "next": body}, status=status.HTTP_201_CREATED)


class PaymentDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PaymentSerializer)
    def get(self, request, merchant_uid):
        payment = selectors.visible_payment(request.user, merchant_uid)
        if payment is None:
            raise NotFound
        return Response(PaymentSerializer(payment).data)


class ConfirmSerializer(StrictSerializer):
    params = serializers.DictField(child=serializers.CharField(max_length=500, allow_blank=True), default=dict)


class ConfirmPaymentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ConfirmSerializer, responses=PaymentSerializer)
    def post(self, request, merchant_uid):
        if selectors.visible_payment(request.user, merchant_uid) is None:
            raise NotFound
        data = ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.confirm_payment(merchant_uid, data.validated_data["params"], source="api")
        return Response(PaymentSerializer(payment).data)


class RefundRequestSerializer(StrictSerializer):
    amount = AmountField()
    reason = serializers.CharField(max_length=200)
    restock = serializers.BooleanField(default=False)
    lines = serializers.DictField(child=WholeNumberField(min_value=1, max_value=numbers.MAX_INT), required=False)

    def validate_lines(self, value):
        try:
            return {numbers.parse_id(k): v for k, v in value.items()}
        except numbers.InvalidNumber:
            raise serializers.ValidationError("Line ids are whole numbers.", code="invalid") from None


class RefundView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=RefundRequestSerializer, responses={201: RefundSerializer, 202: RefundSerializer, **error_responses(502)})
    def post(self, request, merchant_uid):
        if not Payment.objects.filter(merchant_uid=merchant_uid).exists():
            raise NotFound
        data = RefundRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        refund = services.refund_payment(merchant_uid, amount=v["amount"], reason=v["reason"], actor=request.user,
                                         restock=v["restock"], lines=v.get("lines"), source="api")
        code = {Refund.Status.SUCCEEDED: status.HTTP_201_CREATED, Refund.Status.REQUESTED: status.HTTP_202_ACCEPTED}
        if refund.status == Refund.Status.FAILED:
            return Response({"code": "refund_failed", "detail": refund.failure, "refund": RefundSerializer(refund).data},
                            status=status.HTTP_502_BAD_GATEWAY)
        return Response(RefundSerializer(refund).data, status=code[refund.status])
