from django.contrib import admin

from . import services
from .models import Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "user", "rating", "created_at"]
    list_filter = ["rating"]
    search_fields = ["product__name", "user__email", "text"]
    readonly_fields = ["product", "user", "rating", "created_at", "updated_at"]

    def delete_model(self, request, obj):  # keep the product's average right
        services.delete_review(request.user, obj)

    def delete_queryset(self, request, queryset):
        for review in queryset:
            services.delete_review(request.user, review)
