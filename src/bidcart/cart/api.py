"""Cart JSON API: `GET /api/v1/cart/`, `POST /api/v1/cart/items/`, `PATCH|DELETE /api/v1/cart/items/{id}/`.
Visitors use their session; signed-in users (session or JWT) their own cart. Nobody reaches another cart:
an item id of someone else's cart is 404."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.core.domain import NotFound
from bidcart.core.permissions import AnyoneWithCsrf
from bidcart.core.serializers import IdField, StrictSerializer, WholeNumberField

from . import selectors, services


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.id")
    variant = serializers.SerializerMethodField()
    product = serializers.SerializerMethodField()
    quantity = serializers.IntegerField(source="item.quantity")
    unit_price = serializers.IntegerField()
    line_total = serializers.IntegerField()
    available = serializers.BooleanField()
    problem = serializers.CharField()

    def get_variant(self, line) -> dict:
        v = line.variant
        return {"id": v.pk, "sku": v.sku, "attributes": v.attributes, "stock": v.stock}

    def get_product(self, line) -> dict:
        p = line.product
        return {"id": p.pk, "name": p.name, "slug": p.slug}


class CartSerializer(serializers.Serializer):
    items = CartLineSerializer(source="lines", many=True)
    total = serializers.IntegerField()
    currency = serializers.CharField()
    count = serializers.IntegerField()


class AddItemSerializer(StrictSerializer):
    variant = IdField()
    quantity = WholeNumberField(min_value=1, max_value=services.MAX_QUANTITY, default=1)


class QuantitySerializer(StrictSerializer):
    quantity = WholeNumberField(min_value=1, max_value=services.MAX_QUANTITY)


def _cart_response(request, status_code=status.HTTP_200_OK):
    cart = selectors.current_cart(request)
    return Response(CartSerializer(selectors.summary(cart)).data, status=status_code)


class CartView(APIView):
    permission_classes = [AnyoneWithCsrf]

    @extend_schema(responses=CartSerializer)
    def get(self, request):
        return _cart_response(request)


class CartItemsView(APIView):
    permission_classes = [AnyoneWithCsrf]

    @extend_schema(request=AddItemSerializer, responses={201: CartSerializer})
    def post(self, request):
        data = AddItemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.cart_for(request)
        services.add_item(cart, data.validated_data["variant"], data.validated_data["quantity"])
        return _cart_response(request, status.HTTP_201_CREATED)


class CartItemView(APIView):
    permission_classes = [AnyoneWithCsrf]

    def _cart(self, request):
        cart = services.cart_for(request, create=False)
        if cart is None:
            raise NotFound("No such item in your cart.", code="not_found")
        return cart

    @extend_schema(request=QuantitySerializer, responses=CartSerializer)
    def patch(self, request, pk):
        data = QuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_quantity(self._cart(request), pk, data.validated_data["quantity"])
        return _cart_response(request)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.remove_item(self._cart(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
