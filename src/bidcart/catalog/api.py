"""Catalog JSON API: products (list with filters, detail with variants), categories, wishlist."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.core import images as pictures
from bidcart.core.serializers import StrictSerializer

from . import cache as catalog_cache
from . import selectors, services
from .filters import ProductFilter
from .models import Category, Product, Variant


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True, help_text="null for a top-level category."
    )
    depth = serializers.IntegerField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "depth"]


class CategoryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["name", "slug"]


class SellerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class RatingSerializer(serializers.Serializer):
    average = serializers.FloatField(source="rating_avg")
    count = serializers.IntegerField(source="rating_count")


class ProductListSerializer(serializers.ModelSerializer):
    price = serializers.IntegerField(read_only=True, help_text="Lowest variant price, minor units.")
    in_stock = serializers.BooleanField(read_only=True)
    category = CategoryBriefSerializer(read_only=True)
    seller = SellerSerializer(read_only=True)
    rating = RatingSerializer(source="*", read_only=True)
    image = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "brand",
            "price",
            "currency",
            "in_stock",
            "rating",
            "category",
            "seller",
            "image",
            "created_at",
        ]

    def _url(self, image) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(image.image.url) if request is not None else image.image.url

    def get_image(self, product) -> str | None:
        """The cover (the first image), as an absolute URL."""
        images = list(product.images.all())
        return self._url(images[0]) if images else None


class VariantSerializer(serializers.ModelSerializer):
    in_stock = serializers.BooleanField(read_only=True)

    class Meta:
        model = Variant
        fields = ["id", "sku", "attributes", "price", "stock", "in_stock"]


class RenditionSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="JPEG or PNG")
    webp = serializers.URLField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class RenditionsSerializer(serializers.Serializer):
    list = RenditionSerializer(required=False, help_text="at most 400 px a side (cards, thumbnails)")
    detail = RenditionSerializer(required=False, help_text="at most 800 px a side (the product page)")
    zoom = RenditionSerializer(required=False, help_text="at most 1600 px a side (the enlarged photo)")


class ImageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField(help_text="the stored picture, re-encoded")
    alt = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    renditions = RenditionsSerializer(help_text="empty for a picture stored before renditions existed")


class ProductDetailSerializer(ProductListSerializer):
    variants = VariantSerializer(many=True, read_only=True)
    stock_total = serializers.IntegerField(read_only=True)
    images = serializers.SerializerMethodField()

    class Meta(ProductListSerializer.Meta):
        fields = ProductListSerializer.Meta.fields + ["description", "base_price", "stock_total", "variants", "images"]

    @extend_schema_field(ImageSerializer(many=True))
    def get_images(self, product) -> list[dict]:
        """Every image in order, the cover first; `alt` falls back to the product name; with the sizes an
        app shows (core/images.py)."""
        request = self.context.get("request")
        absolute = request.build_absolute_uri if request is not None else (lambda url: url)
        return [
            {"id": i.pk, "url": self._url(i), "alt": i.alt or product.name, **pictures.describe(i, absolute)}
            for i in product.images.all()
        ]


class SameForEveryone:
    """A GET whose body is the same for every caller (nothing personal in it): kept per URL, host
    included since image URLs are absolute, until the catalog changes."""

    def get(self, request, *args, **kwargs):
        name, parts = f"api-{type(self).__name__}", (request.build_absolute_uri(),)
        data = catalog_cache.lookup(name, parts)
        if data is not None:
            return Response(data)
        response = super().get(request, *args, **kwargs)
        if response.status_code == 200:  # an error answer (or an exception) is never kept
            catalog_cache.keep(name, parts, response.data)
        return response


class ProductListView(SameForEveryone, generics.ListAPIView):
    """Active products. Filters: search, category (with descendants), min_price, max_price, in_stock,
    seller; ordering: price, -price, -created (default), -rating, -popularity."""

    serializer_class = ProductListSerializer
    permission_classes = [AllowAny]
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.active_products()


class ProductDetailView(SameForEveryone, generics.RetrieveAPIView):
    serializer_class = ProductDetailSerializer
    permission_classes = [AllowAny]

    def get_object(self):
        product = selectors.product_detail(self.kwargs["slug"])
        if product is None:
            raise NotFound
        return product


class CategoryListView(SameForEveryone, generics.ListAPIView):
    serializer_class = CategorySerializer
    permission_classes = [AllowAny]
    queryset = Category.objects.select_related("parent").order_by("path")


# --- wishlist ------------------------------------------------------------------------------------


class WishlistAddSerializer(StrictSerializer):
    product = serializers.SlugRelatedField(slug_field="slug", queryset=Product.objects.filter(active=True))


class WishlistView(generics.ListAPIView):
    """My wishlist (GET); POST `{product: slug}` hearts a product (idempotent)."""

    serializer_class = ProductListSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Product.objects.none()
        return selectors.wishlist(self.request.user)

    @extend_schema(
        request=WishlistAddSerializer,
        responses={
            201: inline_serializer(
                "Wishlisted", {"product": serializers.CharField(), "wishlisted": serializers.BooleanField()}
            )
        },
    )
    def post(self, request):
        data = WishlistAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.add_to_wishlist(request.user, data.validated_data["product"])
        return Response(
            {"product": data.validated_data["product"].slug, "wishlisted": True}, status=status.HTTP_201_CREATED
        )


class WishlistItemView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, slug):
        product = Product.objects.filter(slug=slug).first()
        if product is None:
            raise NotFound
        services.remove_from_wishlist(request.user, product)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- 재입고 알림 ------------------------------------------------------------------------------------


class RestockAlertSerializer(StrictSerializer):
    variant = serializers.PrimaryKeyRelatedField(queryset=Variant.objects.filter(product__active=True))


class RestockAlertsView(APIView):
    """POST `{variant: id}`: email me once when this sold-out option is back in stock (409 `in_stock` if it
    is not sold out)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=RestockAlertSerializer,
        responses={
            201: inline_serializer(
                "RestockAlert", {"variant": serializers.IntegerField(), "waiting": serializers.BooleanField()}
            )
        },
    )
    def post(self, request):
        data = RestockAlertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = services.ask_restock_alert(request.user, data.validated_data["variant"])
        return Response({"variant": alert.variant_id, "waiting": True}, status=status.HTTP_201_CREATED)
