"""Reviews JSON API: `GET /api/v1/products/{slug}/reviews/` (public), `POST` the same (buyers, once),
`PATCH|DELETE /api/v1/reviews/{id}/` (the author)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.catalog.models import Product
from bidcart.core.serializers import StrictSerializer, WholeNumberField

from . import selectors, services
from .models import Review


class ReviewSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="user.display_name", read_only=True)
    product = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "product", "author", "rating", "text", "created_at", "updated_at"]


class WriteSerializer(StrictSerializer):
    rating = WholeNumberField(min_value=1, max_value=5)
    text = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class EditSerializer(StrictSerializer):
    rating = WholeNumberField(min_value=1, max_value=5, required=False)
    text = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class ProductReviewsView(generics.ListAPIView):
    serializer_class = ReviewSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]

    def _product(self):
        product = Product.objects.filter(slug=self.kwargs["slug"], active=True).first()
        if product is None:
            raise NotFound
        return product

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return (
            Review.objects.filter(product=self._product())
            .select_related("user", "product")
            .order_by("-created_at", "-id")
        )

    @extend_schema(request=WriteSerializer, responses={201: ReviewSerializer})
    def post(self, request, slug):
        data = WriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.create_review(request.user, self._product(), **data.validated_data)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ReviewView(APIView):
    permission_classes = [IsAuthenticated]

    def _mine(self, request, pk):
        review = selectors.user_review(request.user, pk)
        if review is None:
            raise NotFound
        return review

    @extend_schema(request=EditSerializer, responses=ReviewSerializer)
    def patch(self, request, pk):
        review = self._mine(request, pk)
        data = EditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.update_review(request.user, review, **data.validated_data)
        return Response(ReviewSerializer(review).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.delete_review(request.user, self._mine(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
