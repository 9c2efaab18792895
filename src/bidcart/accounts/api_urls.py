from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.TokenObtainView.as_view(), name="api-token"),
    path("auth/token/refresh/", api.TokenRefreshView.as_view(), name="api-token-refresh"),
    path("auth/logout/", api.LogoutView.as_view(), name="api-logout"),
    path("auth/signup/", api.SignupView.as_view(), name="api-signup"),
    path("auth/verify-email/", api.VerifyEmailView.as_view(), name="api-verify-email"),
    path("auth/resend-verification/", api.ResendVerificationView.as_view(), name="api-resend-verification"),
    path("auth/password-reset/", api.PasswordResetView.as_view(), name="api-password-reset"),
    path("auth/password-reset/confirm/", api.PasswordResetConfirmView.as_view(), name="api-password-reset-confirm"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("me/phone/code/", api.PhoneCodeView.as_view(), name="api-phone-code"),
    path("me/phone/verify/", api.PhoneVerifyView.as_view(), name="api-phone-verify"),
    path("me/password/", api.PasswordChangeView.as_view(), name="api-password-change"),
]
