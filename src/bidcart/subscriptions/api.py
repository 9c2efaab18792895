"""Subscriptions JSON API (the project's error shape: `{"code", "detail", "errors"}`).

Buyer (their own):
- `GET /api/v1/subscriptions/` · `POST /api/v1/subscriptions/` `{variant, quantity, interval, method,
  first_date, shipping_address}` → 201
- `GET /api/v1/subscriptions/{id}/` with its cycles
- `POST /api/v1/subscriptions/{id}/skip/` · `pause/` · `resume/` `{method?}` · `cancel/`
- `POST /api/v1/subscriptions/{id}/next-date/` `{date}` · `POST /api/v1/subscriptions/{id}/method/` `{method}`

Seller: `GET|PUT /api/v1/subscriptions/plans/{product_id}/` `{intervals: ["1w", "2w", "4w", "1m"]}` (GET is
public) and `GET /api/v1/subscriptions/schedule/` (staff: everyone's).
Dates are Seoul dates (`YYYY-MM-DD`); `next_at` is an ISO time with its offset (stored in UTC); amounts are
integer minor units with their currency.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.catalog.models import Product
from bidcart.core.domain import Forbidden
from bidcart.core.serializers import IdField, StrictSerializer
from bidcart.orders.api import AddressSerializer

from . import selectors, services
from .models import Cycle, Interval, Plan, Subscription


class MethodSummary(serializers.Serializer):
    id = serializers.IntegerField()
    brand = serializers.CharField()
    last4 = serializers.CharField()


class CycleSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number", default=None)

    class Meta:
        model = Cycle
        fields = ["number", "due_at", "state", "attempts", "next_attempt_at", "order"]


class SubscriptionSerializer(serializers.ModelSerializer):
    product = serializers.IntegerField(source="product_id")
    product_name = serializers.CharField(source="product.name")
    variant = serializers.IntegerField(source="variant_id")
    method = MethodSummary()
    next_date = serializers.SerializerMethodField()
    expected_total = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = [
            "id",
            "product",
            "product_name",
            "variant",
            "quantity",
            "interval",
            "state",
            "pause_reason",
            "method",
            "next_cycle",
            "next_at",
            "next_date",
            "expected_total",
            "recipient",
            "phone",
            "postcode",
            "address1",
            "address2",
            "delivery_note",
            "created_at",
        ]

    def get_next_date(self, sub) -> str:
        return sub.next_at.astimezone(services.SEOUL).date().isoformat()

    def get_expected_total(self, sub) -> dict:
        amount, currency = selectors.expected_total(sub)
        return {"amount": amount, "currency": currency}


class SubscriptionDetailSerializer(SubscriptionSerializer):
    cycles = CycleSerializer(many=True)

    class Meta(SubscriptionSerializer.Meta):
        fields = SubscriptionSerializer.Meta.fields + ["cycles"]


class SubscribeSerializer(StrictSerializer):
    variant = IdField()
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)
    interval = serializers.ChoiceField(choices=Interval.choices)
    method = IdField(help_text="a saved card's id")
    first_date = serializers.DateField(help_text="the first delivery's date in Seoul, YYYY-MM-DD")
    shipping_address = AddressSerializer()  # the checkout's


class ResumeSerializer(StrictSerializer):
    method = IdField(required=False)


class MethodSerializer(StrictSerializer):
    method = IdField()


class DateSerializer(StrictSerializer):
    date = serializers.DateField(help_text="the next delivery's date in Seoul, YYYY-MM-DD")


class PlanSerializer(StrictSerializer):
    product = serializers.IntegerField(read_only=True)
    intervals = serializers.ListField(child=serializers.ChoiceField(choices=Interval.choices), max_length=4)


class ScheduleSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name")
    buyer = serializers.CharField(source="user.display_name")
    sku = serializers.CharField(source="variant.sku")

    class Meta:
        model = Subscription
        fields = [
            "id",
            "product",
            "product_name",
            "sku",
            "buyer",
            "quantity",
            "interval",
            "state",
            "next_cycle",
            "next_at",
            "recipient",
            "postcode",
            "address1",
            "address2",
        ]


def _detail(user, pk) -> Response:
    sub = selectors.buyer_subscription(user, pk)
    if sub is None:
        raise NotFound
    return Response(SubscriptionDetailSerializer(sub).data)


class SubscriptionsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SubscriptionSerializer(many=True))
    def get(self, request):
        return Response(SubscriptionSerializer(selectors.buyer_subscriptions(request.user), many=True).data)

    @extend_schema(request=SubscribeSerializer, responses={201: SubscriptionDetailSerializer})
    def post(self, request):
        data = SubscribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        sub = services.subscribe(
            request.user,
            variant_id=v["variant"],
            quantity=v["quantity"],
            interval=v["interval"],
            method_id=v["method"],
            shipping_address=v["shipping_address"],
            first_date=v["first_date"],
        )
        response = _detail(request.user, sub.pk)
        response.status_code = status.HTTP_201_CREATED
        return response


class SubscriptionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SubscriptionDetailSerializer)
    def get(self, request, pk):
        return _detail(request.user, pk)


class _Action(APIView):
    permission_classes = [IsAuthenticated]
    body = None

    def act(self, user, pk, data):  # pragma: no cover - each action defines it
        raise NotFound

    def post(self, request, pk):
        data = {}
        if self.body is not None:
            body = self.body(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
        self.act(request.user, pk, data)
        return _detail(request.user, pk)


class SkipView(_Action):
    @extend_schema(request=None, responses=SubscriptionDetailSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, user, pk, data):
        services.skip_next(user, pk)


class PauseView(_Action):
    @extend_schema(request=None, responses=SubscriptionDetailSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, user, pk, data):
        services.pause(user, pk)


class ResumeView(_Action):
    body = ResumeSerializer

    @extend_schema(request=ResumeSerializer, responses=SubscriptionDetailSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, user, pk, data):
        services.resume(user, pk, method_id=data.get("method"))


class CancelView(_Action):
    @extend_schema(request=None, responses=SubscriptionDetailSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, user, pk, data):
        services.cancel(user, pk)


class NextDateView(_Action):
    body = DateSerializer

    @extend_schema(request=DateSerializer, responses=SubscriptionDetailSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, user, pk, data):
        services.change_next_date(user, pk, data["date"])


class ChangeMethodView(_Action):
    body = MethodSerializer

    @extend_schema(request=MethodSerializer, responses=SubscriptionDetailSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, user, pk, data):
        services.change_method(user, pk, data["method"])


class PlanView(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses=PlanSerializer)
    def get(self, request, product_id):
        product = Product.objects.filter(pk=product_id, active=True).first()
        if product is None:
            raise NotFound
        plan = selectors.plan_for(product)
        return Response({"product": product.pk, "intervals": plan.intervals if plan else []})

    @extend_schema(request=PlanSerializer, responses=PlanSerializer)
    def put(self, request, product_id):
        data = PlanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan: Plan = services.set_plan(request.user, product_id, data.validated_data["intervals"])
        return Response({"product": plan.product_id, "intervals": plan.intervals})


class ScheduleView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ScheduleSerializer(many=True))
    def get(self, request):
        if not request.user.can_sell:
            raise Forbidden(_("Only sellers see a subscription schedule."), code="not_a_seller")
        return Response(ScheduleSerializer(selectors.seller_schedule(request.user)[:500], many=True).data)
