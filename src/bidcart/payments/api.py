"""Payments JSON API.

- `POST /api/v1/orders/{number}/payments/` `{provider, method?}` → `{merchant_uid, status, amount, currency,
  next: {type: "redirect", url} | {type: "client", script, params}}` (the buyer of the order).
- `GET /api/v1/payments/{merchant_uid}/` status, amounts, refunds and the outcome events (buyer or staff).
- `POST /api/v1/payments/{merchant_uid}/confirm/` `{params}`: an app that caught the provider's return
  passes its query parameters; the same confirmation as the browser return.
- `POST /api/v1/payments/{merchant_uid}/refunds/` `{reason, amount?, lines?, restock?}` (staff): `lines` {order line
  id: units returned}; the amount defaults to those units' share; `restock` puts back exactly those units.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.core import numbers
from bidcart.core.openapi import error_responses
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
    message = serializers.SerializerMethodField()

    class Meta:
        model = PaymentEvent
        fields = ["type", "from_status", "to_status", "amount", "message", "created_at"]

    def get_message(self, event) -> str:
        """The provider's raw text is for staff; a buyer reads the payment's `failure` sentence instead."""
        return event.message if self.context.get("staff") else ""


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
    failure = serializers.SerializerMethodField(
        help_text="how the attempt ended, for the buyer (staff: the provider's raw text)"
    )

    class Meta:
        model = Payment
        fields = [
            "merchant_uid",
            "order",
            "provider",
            "method",
            "status",
            "amount",
            "currency",
            "provider_amount",
            "provider_currency",
            "captured",
            "refunded",
            "refundable",
            "vbank",
            "failure",
            "created_at",
            "paid_at",
            "refunds",
            "events",
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
        return EventSerializer(selectors.buyer_events(payment), many=True, context=self.context).data

    def get_failure(self, payment) -> str:
        return payment.failure if self.context.get("staff") else payment.buyer_message


class PaymentSummarySerializer(serializers.ModelSerializer):
    failure = serializers.CharField(
        source="buyer_message", read_only=True, help_text="how the attempt ended, for the buyer"
    )

    class Meta:
        model = Payment
        fields = [
            "merchant_uid",
            "provider",
            "method",
            "status",
            "amount",
            "currency",
            "failure",
            "created_at",
            "paid_at",
        ]


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
            request.user,
            order,
            provider=data.validated_data["provider"],
            method=data.validated_data["method"],
            mobile=is_mobile(request),
            site_url=site_url(request),
        )
        body = (
            {"type": nxt.type, "url": nxt.url}
            if nxt.type == "redirect"
            else {"type": nxt.type, "script": nxt.script, "params": nxt.params}
        )
        return Response(
            {
                "merchant_uid": payment.merchant_uid,
                "status": payment.status,
                "amount": payment.amount,
                "currency": payment.currency,
                "next": body,
            },
            status=status.HTTP_201_CREATED,
        )


class PaymentDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PaymentSerializer)
    def get(self, request, merchant_uid):
        payment = selectors.visible_payment(request.user, merchant_uid)
        if payment is None:
            raise NotFound
        return Response(PaymentSerializer(payment, context={"staff": request.user.is_staff}).data)


class ConfirmSerializer(StrictSerializer):
    params = serializers.DictField(child=serializers.CharField(max_length=500, allow_blank=True), default=dict)


class ConfirmPaymentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ConfirmSerializer, responses=PaymentSerializer)
    def post(self, request, merchant_uid):
        data = ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.confirm_payment(
            merchant_uid, data.validated_data["params"], source="api", buyer=request.user
        )
        return Response(PaymentSerializer(payment, context={"staff": request.user.is_staff}).data)


class RefundAccountSerializer(StrictSerializer):
    bank = serializers.CharField(max_length=30, help_text="the bank's key (KOOKMIN, SHINHAN, ...; payments/banks.py)")
    number = serializers.CharField(max_length=30)
    holder = serializers.CharField(max_length=30)


class RefundAccountAnswerSerializer(serializers.Serializer):
    bank = serializers.CharField()
    number_last4 = serializers.CharField()
    holder = serializers.CharField()


class RefundAccountView(APIView):
    """`PUT /api/v1/payments/{merchant_uid}/refund-account/` `{bank, number, holder}` (the buyer): the
    account a bank-deposit payment is refunded to. Answers the bank and the number's last 4 digits."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=RefundAccountSerializer,
        responses={200: RefundAccountAnswerSerializer, **error_responses(400, 404, 409)},
    )
    def put(self, request, merchant_uid):
        data = RefundAccountSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.set_refund_account(request.user, merchant_uid, **data.validated_data)
        account = payment.refund_account
        return Response({"bank": account["bank"], "number_last4": account["number"][-4:], "holder": account["holder"]})


class RefundRequestSerializer(StrictSerializer):
    amount = AmountField(
        required=False, help_text="minor units; defaults to the chosen lines' share (lines required then)"
    )
    # required for a deposited virtual-account payment: it goes back by bank transfer
    refund_account = RefundAccountSerializer(required=False)
    reason = serializers.CharField(max_length=200)
    restock = serializers.BooleanField(default=False, help_text="put exactly the refunded units back in stock")
    lines = serializers.DictField(
        child=WholeNumberField(min_value=1, max_value=numbers.MAX_INT),
        required=False,
        help_text="order line id → units returned",
    )

    def validate_lines(self, value):
        try:
            return {numbers.parse_id(k): v for k, v in value.items()}
        except numbers.InvalidNumber:
            raise serializers.ValidationError("Line ids are whole numbers.", code="invalid") from None

    def validate(self, data):
        if "amount" not in data and not data.get("lines"):
            raise serializers.ValidationError(
                {"amount": "Give an amount, or the lines and units returned."}, code="required"
            )
        return data


class RefundView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=RefundRequestSerializer,
        responses={201: RefundSerializer, 202: RefundSerializer, **error_responses(502)},
    )
    def post(self, request, merchant_uid):
        if not Payment.objects.filter(merchant_uid=merchant_uid).exists():
            raise NotFound
        data = RefundRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        refund = services.refund_payment(
            merchant_uid,
            amount=v.get("amount"),
            reason=v["reason"],
            actor=request.user,
            restock=v["restock"],
            lines=v.get("lines"),
            source="api",
            refund_account=v.get("refund_account"),
        )
        code = {Refund.Status.SUCCEEDED: status.HTTP_201_CREATED, Refund.Status.REQUESTED: status.HTTP_202_ACCEPTED}
        if refund.status == Refund.Status.FAILED:
            return Response(
                {"code": "refund_failed", "detail": refund.failure, "refund": RefundSerializer(refund).data},
                status=status.HTTP_502_BAD_GATEWAY,
            )
        return Response(RefundSerializer(refund).data, status=code[refund.status])
