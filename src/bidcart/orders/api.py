"""Orders JSON API.

- `POST /api/v1/orders/` `{shipping_address: {recipient, phone, postcode, address1, address2}}` places the
  cart's order → `{number, status, subtotal, shipping, total, currency, lines, ...}`.
- `GET /api/v1/orders/` my orders; `GET /api/v1/orders/{number}/` one of mine (or one I sell in / staff).
- `POST /api/v1/orders/{number}/cancel/` (buyer, while awaiting payment).
- `GET/POST /api/v1/addresses/`, `PATCH/DELETE /api/v1/addresses/{id}/`: my address book (배송지 목록), one
  default.
- `POST /api/v1/orders/{number}/confirm/` 구매확정 (buyer, once the order is shipped or delivered).
- `GET /api/v1/orders/manage/` and `POST /api/v1/orders/{number}/status/` `{status, courier, tracking_number}`:
  a seller moves their own shipment (preparing, shipped with courier and tracking number, delivered) and sees
  only their own lines; staff may make any legal transition of the whole order.
"""

import re

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.core.serializers import StrictSerializer

from . import couriers, selectors, services
from .models import Order, OrderLine, SavedAddress, Shipment, Status

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{7,18}$")
POSTCODE_RE = re.compile(r"^[0-9]{5}$")


class AddressSerializer(StrictSerializer):
    recipient = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=30)
    postcode = serializers.CharField(max_length=10)
    address1 = serializers.CharField(max_length=200)
    address2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    delivery_note = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="배송 요청사항 for the courier, e.g. 문 앞에 놓아 주세요",
    )

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
        fields = [
            "id",
            "product",
            "product_name",
            "variant",
            "sku",
            "attributes",
            "unit_price",
            "quantity",
            "line_total",
        ]


class ShipmentSerializer(serializers.ModelSerializer):
    """One seller's parcel: its lines are the order's lines with the same seller."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    courier_name = serializers.CharField(read_only=True)
    tracking_url = serializers.CharField(read_only=True)
    seller = serializers.CharField(source="seller.display_name", read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "seller",
            "status",
            "status_display",
            "courier",
            "courier_name",
            "tracking_number",
            "tracking_url",
            "shipped_at",
            "delivered_at",
        ]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True)
    shipping_address = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "subtotal",
            "shipping",
            "total",
            "currency",
            "lines",
            "shipments",
            "shipping_address",
            "created_at",
            "payment_due_at",
            "paid_at",
            "delivered_at",
            "confirmed_at",
        ]

    def get_shipping_address(self, order) -> dict:
        return {k: getattr(order, k) for k in services.ADDRESS_FIELDS}


class ManagedOrderSerializer(OrderSerializer):
    """What a seller sees of an order: their own lines and shipment, the address to ship to, and the sum of
    their lines (`lines_total`) instead of the order's amounts, which include other sellers' items. Staff see
    every line."""

    lines_total = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [
            "number",
            "status",
            "currency",
            "lines",
            "lines_total",
            "shipments",
            "shipping_address",
            "created_at",
            "paid_at",
            "delivered_at",
            "confirmed_at",
        ]

    def get_lines_total(self, order) -> int:
        return sum(line.line_total for line in order.lines.all())


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
        return Response(
            OrderSerializer(selectors.user_order(request.user, order.number, shipments=True)).data,
            status=status.HTTP_201_CREATED,
        )


# One order answers in two shapes, and the schema names both: its buyer gets the whole Order; a seller (only
# their lines and shipment, no order amounts or payment deadline) or staff get a ManagedOrder.
ORDER_OR_MANAGED = PolymorphicProxySerializer(
    component_name="OrderOrManagedOrder",
    serializers=[OrderSerializer, ManagedOrderSerializer],
    resource_type_field_name=None,
)


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=ORDER_OR_MANAGED,
        description="The buyer's order (Order); a seller, for their part of it, or staff get a ManagedOrder.",
    )
    def get(self, request, number):
        order = selectors.visible_order(request.user, number)
        if order is None:
            raise NotFound
        if order.user_id != request.user.pk:
            return Response(ManagedOrderSerializer(order).data)
        return Response(OrderSerializer(order).data)


class CancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=OrderSerializer)
    def post(self, request, number):
        order = selectors.user_order(request.user, number)
        if order is None:
            raise NotFound
        services.cancel_by_buyer(request.user, order)
        return Response(OrderSerializer(selectors.user_order(request.user, number, shipments=True)).data)


class ConfirmView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses=OrderSerializer, description="구매확정: the buyer confirms the order arrived."
    )
    def post(self, request, number):
        order = selectors.user_order(request.user, number)
        if order is None:
            raise NotFound
        services.confirm_purchase(request.user, order)
        return Response(OrderSerializer(selectors.user_order(request.user, number, shipments=True)).data)


class ManagedOrdersView(generics.ListAPIView):
    serializer_class = ManagedOrderSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.managed_orders(self.request.user)


class StatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=Status.choices)
    courier = serializers.ChoiceField(
        choices=couriers.CHOICES, required=False, help_text="needed to mark a shipment shipped"
    )
    tracking_number = serializers.CharField(max_length=30, required=False, help_text="10 to 14 digits")


class StatusView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=StatusSerializer, responses=ManagedOrderSerializer)
    def post(self, request, number):
        order = selectors.managed_orders(request.user).filter(number=number).first()
        if order is None:
            raise NotFound
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.advance(
            request.user,
            order,
            data.validated_data["status"],
            courier=data.validated_data.get("courier", ""),
            tracking_number=data.validated_data.get("tracking_number", ""),
        )
        return Response(ManagedOrderSerializer(selectors.managed_orders(request.user).get(number=number)).data)


# --- the address book -----------------------------------------------------------------------------


class SavedAddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedAddress
        fields = [
            "id",
            "recipient",
            "phone",
            "postcode",
            "address1",
            "address2",
            "delivery_note",
            "is_default",
            "created_at",
        ]


class NewAddressSerializer(AddressSerializer):
    is_default = serializers.BooleanField(required=False, default=False)


class AddressPatchSerializer(NewAddressSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class AddressesView(generics.ListAPIView):
    """My saved addresses, the default first; POST saves one (`is_default` to make it the default)."""

    serializer_class = SavedAddressSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SavedAddress.objects.none()
        return SavedAddress.objects.filter(user=self.request.user).order_by("-is_default", "-created_at", "-id")

    @extend_schema(request=NewAddressSerializer, responses={201: SavedAddressSerializer})
    def post(self, request):
        data = NewAddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = services.save_address(request.user, data.validated_data, default=data.validated_data["is_default"])
        return Response(SavedAddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=AddressPatchSerializer, responses=SavedAddressSerializer)
    def patch(self, request, pk):
        data = AddressPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(SavedAddressSerializer(services.update_address(request.user, pk, data.validated_data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.delete_address(request.user, pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
