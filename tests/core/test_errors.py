"""The API's error shape, exercised through a tiny view that uses the project's strict serializer."""

import pytest
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bidcart.core.domain import Conflict, Throttled
from bidcart.core.serializers import StrictSerializer


class QuantityIn(StrictSerializer):
    quantity = serializers.IntegerField(min_value=1)


class EchoView(APIView):
    authentication_classes = []
    permission_classes = []

    def post(self, request):
        data = QuantityIn(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["quantity"] > 50:
            raise Throttled("Wait a little.", code="slow_down", retry_after=30)
        if data.validated_data["quantity"] > 10:
            raise Conflict("Only 10 left.", code="insufficient_stock")
        return Response({"quantity": data.validated_data["quantity"]})


urlpatterns = [path("api/echo/", EchoView.as_view())]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"quantity": "many"}, "quantity", "invalid"),
        ({"quantity": 0}, "quantity", "min_value"),
        ({}, "quantity", "required"),
        ({"quantity": 1, "price": 1}, "price", "unknown_field"),
    ],
)
def test_bad_fields_are_400_with_machine_readable_codes(client, body, field, code):
    response = client.post("/api/echo/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"][field][0]["code"] == code


def test_malformed_json_is_400_not_500(client):
    response = client.post("/api/echo/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_json_array_body_is_400(client):
    response = client.post("/api/echo/", "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_domain_errors_carry_their_code_and_the_status_of_their_kind(client):
    response = client.post("/api/echo/", {"quantity": 11}, content_type="application/json")
    assert response.status_code == 409
    assert response.json() == {"code": "insufficient_stock", "detail": "Only 10 left."}
    waiting = client.post("/api/echo/", {"quantity": 99}, content_type="application/json")
    assert (waiting.status_code, waiting.headers["Retry-After"]) == (429, "30")
    assert waiting.json() == {"code": "slow_down", "detail": "Wait a little."}


class MissingView(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        from django.shortcuts import get_object_or_404

        from bidcart.core.models import DemoSeed

        return Response({"app": get_object_or_404(DemoSeed, app="nope").app})


urlpatterns.append(path("api/missing/", MissingView.as_view()))


def test_djangos_http404_gets_the_error_shape(client):
    response = client.get("/api/missing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
