"""Accounts JSON API under /api/v1/: JWT auth, sign-up and verification, profile, phone, passwords.

Input serializers are strict (unknown fields → 400); refusals are DomainErrors with stable codes,
answered in the project's error shape `{code, detail, errors}`.
"""

from django.conf import settings
from django.contrib.auth import authenticate, password_validation, user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.views import TokenRefreshView as SimpleJWTRefreshView

from bidcart.core.domain import Forbidden, NotAuthenticated, Throttled
from bidcart.core.http import client_ip
from bidcart.core.openapi import error_responses
from bidcart.core.serializers import (
    StrictModelSerializer,
    StrictSerializer,
    StrictSerializerMixin,
)

from . import consents as consent_items
from . import selectors, services
from .jwt import token_pair
from .models import User

# --- shapes ----------------------------------------------------------------------------------------


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


def _password_errors(password: str, user) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as error:
        raise serializers.ValidationError(list(error.messages)) from None


def _pair(user) -> dict:
    return token_pair(user)


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


# --- serializers -----------------------------------------------------------------------------------


class TokenObtainSerializer(StrictSerializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})

    def validate(self, attrs):
        request = self.context["request"]
        django_request = getattr(request, "_request", request)  # django-axes flags the Django request
        user = authenticate(django_request, email=attrs["email"], password=attrs["password"])
        if user is None:
            if getattr(django_request, "axes_locked_out", False):
                raise Throttled(_("Too many failed logins. Try again later."), code="locked_out")
            if selectors.inactive_user_with_password(attrs["email"], attrs["password"]):
                raise Forbidden(
                    _("Your account is not active yet: open the link we emailed you to verify your address."),
                    code="account_inactive",
                )
            raise NotAuthenticated(_("The email or password is not correct."), code="invalid_credentials")
        # what a session login does: last_login, and django-axes resets the failure count
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        return {"user": user}


class StrictTokenRefreshSerializer(StrictSerializerMixin, TokenRefreshSerializer):
    pass


class LogoutSerializer(StrictSerializer):
    refresh = serializers.CharField()


class MeSerializer(StrictModelSerializer):
    phone = PhoneNumberField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    email_verified = serializers.BooleanField(read_only=True)
    phone_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "phone",
            "language",
            "is_seller",
            "email_verified",
            "phone_verified",
            "email_verified_at",
            "phone_verified_at",
            "date_joined",
        ]
        read_only_fields = ["id", "email", "is_seller", "email_verified_at", "phone_verified_at", "date_joined"]
        extra_kwargs = {"display_name": {"required": False}}

    def validate_display_name(self, value):
        if not value.strip():
            raise serializers.ValidationError(_("Enter a display name."))
        return value.strip()


class SignupSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    display_name = serializers.CharField(max_length=50)
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    phone = PhoneNumberField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    consents = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="이용약관 동의: {item: true|false} for "
        + ", ".join(f"{i.key} ({'required' if i.required else 'optional'})" for i in consent_items.ITEMS),
    )

    def validate_consents(self, value):
        unknown = sorted(set(value) - set(consent_items.BY_KEY))
        if unknown:
            raise serializers.ValidationError(f"Unknown consent items: {', '.join(unknown)}.", code="unknown_consent")
        return value

    def validate(self, attrs):
        candidate = User(email=attrs["email"], display_name=attrs["display_name"])
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from None
        return attrs


class UidTokenSerializer(StrictSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class EmailSerializer(StrictSerializer):
    email = serializers.EmailField()


class PhoneCodeSerializer(StrictSerializer):
    code = serializers.RegexField(r"^\d{6}$", error_messages={"invalid": "Enter the 6-digit code."})


class PhoneCodeSentSerializer(serializers.Serializer):
    detail = serializers.CharField()
    expires_at = serializers.DateTimeField()
    resend_after_seconds = serializers.IntegerField()


class PasswordResetConfirmSerializer(UidTokenSerializer):
    new_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})

    def validate(self, attrs):
        user = selectors.user_from_uidb64(attrs["uid"])
        try:
            password_validation.validate_password(attrs["new_password"], user)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"new_password": list(error.messages)}) from None
        return attrs


class PasswordChangeSerializer(StrictSerializer):
    old_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    new_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})

    def validate_new_password(self, value):
        _password_errors(value, self.context["request"].user)
        return value


# --- views -----------------------------------------------------------------------------------------


class PublicAPIView(APIView):
    """No session or JWT needed (and no CSRF from a browser session getting in the way)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class TokenObtainView(PublicAPIView):
    @extend_schema(
        tags=["auth"],
        summary="Log in: a JWT access + refresh pair for email and password",
        request=TokenObtainSerializer,
        responses={200: TokenPairSerializer, **error_responses(401, 403)},
    )
    def post(self, request):
        serializer = TokenObtainSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return Response(_pair(serializer.validated_data["user"]))


class TokenRefreshView(SimpleJWTRefreshView):
    serializer_class = StrictTokenRefreshSerializer

    @extend_schema(
        tags=["auth"],
        summary="A new access token (and rotated refresh token)",
        responses={200: TokenPairSerializer, **error_responses(401)},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutView(PublicAPIView):
    @extend_schema(
        tags=["auth"],
        summary="Log out: blacklist the refresh token",
        request=LogoutSerializer,
        responses={200: DetailSerializer},
    )
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.logout_refresh_token(serializer.validated_data["refresh"])
        return Response({"detail": _("Logged out.")})


class SignupView(PublicAPIView):
    @extend_schema(
        tags=["auth"],
        summary="Sign up: creates an inactive account and emails a verification link",
        request=SignupSerializer,
        responses={201: MeSerializer},
    )
    def post(self, request):
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.signup(
            email=data["email"],
            display_name=data["display_name"],
            password=data["password"],
            phone=data.get("phone") or "",
            language=data.get("language") or translation.get_language(),
            base_url=_base_url(request),
            ip=client_ip(request),
            consents=data["consents"],
        )
        return Response(MeSerializer(user).data, status=status.HTTP_201_CREATED)


class VerifyEmailView(PublicAPIView):
    @extend_schema(
        tags=["auth"],
        summary="Confirm the email address with the link's uid and token",
        request=UidTokenSerializer,
        responses={200: DetailSerializer},
    )
    def post(self, request):
        serializer = UidTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.verify_email(serializer.validated_data["uid"], serializer.validated_data["token"])
        return Response({"detail": _("Your email is verified. You can log in now.")})


class ResendVerificationView(PublicAPIView):
    @extend_schema(
        tags=["auth"],
        summary="Send the verification link again (same answer whether or not the address exists)",
        request=EmailSerializer,
        responses={202: DetailSerializer},
    )
    def post(self, request):
        serializer = EmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.resend_verification(serializer.validated_data["email"], _base_url(request), ip=client_ip(request))
        return Response(
            {"detail": _("If an account with that address is waiting for verification, a new link is on its way.")},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetView(PublicAPIView):
    @extend_schema(
        tags=["auth"], summary="Email a password reset link", request=EmailSerializer, responses={202: DetailSerializer}
    )
    def post(self, request):
        serializer = EmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.request_password_reset(serializer.validated_data["email"], _base_url(request), ip=client_ip(request))
        return Response(
            {"detail": _("If an active account uses that address, we sent it a link to choose a new password.")},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(PublicAPIView):
    @extend_schema(
        tags=["auth"],
        summary="Set a new password with the reset link's uid and token",
        request=PasswordResetConfirmSerializer,
        responses={200: DetailSerializer},
    )
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.reset_password(data["uid"], data["token"], data["new_password"])
        return Response({"detail": _("Your new password is set. You can log in with it now.")})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["me"], summary="Your profile", responses={200: MeSerializer})
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        tags=["me"],
        summary="Change display name, phone (must be verified again) or language",
        request=MeSerializer,
        responses={200: MeSerializer},
    )
    def patch(self, request):
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.update_profile(request.user, **serializer.validated_data)
        return Response(MeSerializer(user).data)


class PhoneCodeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["me"],
        summary="Text a 6-digit code to your phone",
        request=None,
        responses={202: PhoneCodeSentSerializer, **error_responses(503)},
    )
    def post(self, request):
        if request.data:
            raise serializers.ValidationError({name: ["Unknown field."] for name in request.data})
        phone_code = services.request_phone_code(request.user)
        return Response(
            {
                "detail": _("We texted a 6-digit code to %(phone)s.") % {"phone": request.user.phone.as_national},
                "expires_at": serializers.DateTimeField().to_representation(phone_code.expires_at),
                "resend_after_seconds": settings.OTP_RESEND_SECONDS,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class PhoneVerifyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["me"],
        summary="Verify your phone with the texted code",
        request=PhoneCodeSerializer,
        responses={200: MeSerializer},
    )
    def post(self, request):
        serializer = PhoneCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.verify_phone_code(request.user, serializer.validated_data["code"])
        return Response(MeSerializer(user).data)


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["me"],
        summary="Change your password: every refresh token is revoked and a fresh pair returned",
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer},
    )
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = services.change_password(
            request.user,
            old_password=serializer.validated_data["old_password"],
            new_password=serializer.validated_data["new_password"],
        )
        return Response(_pair(user))
