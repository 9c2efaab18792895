"""Orders JSON API.

- `POST /api/v1/orders/` `{shipping_address: {recipient, phone, postcode, address1, address2}}` places the
  cart's order → `{number, status, subtotal, shipping, total, currency, lines, ...}`.
- `GET /api/v1/orders/` my orders; `GET /api/v1/orders/{number}/` one of mine (or one I sell in / staff).
- `POST /api/v1/orders/{number}/cancel/` (buyer, while awaiting payment).
- `GET /api/v1/orders/manage/` and `POST /api/v1/orders/{number}/status/` `{status}`: staff and sellers.
"""

import re

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.core.serializers import StrictSerializer

from . import selectors, services
from .models import Order, OrderLine, Status

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{7,18}$")
POSTCODE_RE = re.compile(r"^[0-9]{5}$")


class AddressSerializer(StrictSerializer):
    recipient = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=30)
    postcode = serializers.CharField(max_length=10)
    address1 = serializers.CharField(max_length=200)
    address2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_phone(self, value):
        if not PHONE_RE.match(value.strip()):
            raise serializers.ValidationError("Enter a phone number, e.g. 010-1234-5678.", code="phone_invalid")
        return value.strip()

    def validate_postcode(self, value):
        if not POSTCODE_RE.match(value.strip()):
            raise serializers.ValidationError("A postcode is 5 digits.", code="postcode_invalid")
        return value.strip()


class PlaceOrderSerializer(StrictSerializer):
    shipping_address = AddressSerializer()


class OrderLineSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = OrderLine
        fields = ["id", "product", "product_name", "variant", "sku", "attributes", "unit_price", "quantity", "line_total"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    shipping_address = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "number", "status", "subtotal", "shipping", "total", "currency", "lines", "shipping_address",
            "created_at", "payment_due_at", "paid_at",
        ]

    def get_shipping_address(self, order) -> dict:
        return {k: getattr(order, k) for k in services.ADDRESS_FIELDS}


class OrdersView(generics.ListAPIView):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.user_orders(self.request.user)

    @extend_schema(request=PlaceOrderSerializer, responses={201: OrderSerializer})
    def post(self, request):
        data = PlaceOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.place_order(request.user, shipping_address=data.validated_data["shipping_address"])
        return Response(OrderSerializer(selectors.user_order(request.user, order.number)).data, status=status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OrderSerializer)
    def get(self, request, number):
        order = selectors.visible_order(request.user, number)
        if order is None:
            raise NotFound
        return Response(OrderSerializer(order).data)


class CancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=OrderSerializer)
    def post(self, request, number):
        order = selectors.user_order(request.user, number)
        if order is None:
            raise NotFound
        services.cancel_by_buyer(request.user, order)
        return Response(OrderSerializer(selectors.user_order(request.user, number)).data)


class ManagedOrdersView(generics.ListAPIView):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.managed_orders(self.request.user)


class StatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=Status.choices)


class StatusView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=StatusSerializer, responses=OrderSerializer)
    def post(self, request, number):
        order = selectors.managed_orders(request.user).filter(number=number).first()
        if order is None:
            raise NotFound
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.advance(request.user, order, data.validated_data["status"])
        return Response(OrderSerializer(selectors.managed_orders(request.user).get(number=number)).data)
