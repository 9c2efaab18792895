"""Account pages (session auth). Thin: parse a form, call a service, render or redirect."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from bidcart.core.domain import DomainError
from bidcart.core.errors import http_status
from bidcart.core.http import client_ip
from bidcart.core.ratelimit import RateLimited

from . import forms, services


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _set_language(response, language: str) -> None:
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


# --- sign-up and email verification ----------------------------------------------------------------


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("web:home")
    form = forms.SignupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.signup(
                email=data["email"],
                display_name=data["display_name"],
                password=data["password1"],
                phone=data["phone"] or "",
                language=translation.get_language(),
                base_url=_base_url(request),
                ip=client_ip(request),
                consents=form.consents(),
            )
        except RateLimited as error:
            form.add_error(None, error.detail)
            status = http_status(error)
        except DomainError as error:
            form.add_error("email", error.detail)
        else:
            request.session["signup_email"] = user.email
            # where the visitor was going (?next= from the login page): the verification link takes them there
            request.session["signup_next"] = _safe_next(request)
            return redirect("accounts:signup_done")
    if form.errors and status == 200:
        status = 400
    return render(request, "accounts/signup.html", {"form": form, "next": request.GET.get("next", "")}, status=status)


def signup_done(request):
    return render(request, "accounts/signup_done.html", {"email": request.session.get("signup_email", "")})


@require_http_methods(["GET"])
def verify_email(request, uidb64, token):
    try:
        user = services.verify_email(uidb64, token)
    except DomainError as error:
        form = forms.ResendVerificationForm()
        return render(request, "accounts/verify_email_invalid.html", {"form": form, "error": error.detail}, status=400)
    # The link proved the address (it works once): the new member is signed in, and carries on where they
    # were going when they signed up in this browser.
    target = request.session.pop("signup_next", "") or resolve_url(settings.LOGIN_REDIRECT_URL)
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return render(request, "accounts/verify_email_done.html", {"verified_user": user, "next_url": target})


@require_http_methods(["GET", "POST"])
def resend_verification(request):
    if request.method == "POST":
        form = forms.ResendVerificationForm(request.POST)
        if form.is_valid():
            try:
                services.resend_verification(form.cleaned_data["email"], _base_url(request), ip=client_ip(request))
            except DomainError as error:
                form.add_error(None, error.detail)
                return render(request, "accounts/resend_verification.html", {"form": form}, status=http_status(error))
            messages.success(
                request, _("If an account with that address is waiting for verification, a new link is on its way.")
            )
            return redirect("accounts:resend_verification")
    else:
        form = forms.ResendVerificationForm(initial={"email": request.GET.get("email", "")})
    return render(request, "accounts/resend_verification.html", {"form": form}, status=400 if form.errors else 200)


# --- log in / out ----------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    if request.method == "POST":
        form = forms.LoginForm(request, data=request.POST)
        if form.is_valid():
            auth_login(request, form.user)
            return redirect(_safe_next(request))
    else:
        form = forms.LoginForm(request, initial={"email": request.GET.get("email", "")})
    context = {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")}
    status = 429 if form.has_error(NON_FIELD_ERRORS, "rate_limited") else 400 if form.errors else 200
    return render(request, "accounts/login.html", context, status=status)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link or image can't log anybody out."""

    next_page = settings.LOGOUT_REDIRECT_URL


# --- profile, phone, passwords ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    if request.method == "POST":
        form = forms.ProfileForm(request.POST)
        if form.is_valid():
            old_phone = str(user.phone or "")
            user = services.update_profile(user, **form.cleaned_data)
            phone_changed = bool(user.phone) and str(user.phone) != old_phone
            response = redirect("accounts:verify_phone" if phone_changed else "accounts:profile")
            _set_language(response, user.language)  # messages below are in the newly chosen language
            messages.success(request, _("Your profile was saved."))
            if phone_changed:
                messages.info(request, _("Verify your new phone number."))
            return response
    else:
        form = forms.ProfileForm(
            initial={"display_name": user.display_name, "phone": user.phone, "language": user.language}
        )
    return render(request, "accounts/profile.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def verify_phone(request):
    """One page, two forms: "send code" (action=send) and "enter code" (action=verify)."""
    user = request.user
    code_form = forms.PhoneCodeForm()
    send_error = ""
    status = 200
    if request.method == "POST" and request.POST.get("action") == "send":
        try:
            services.request_phone_code(user)
        except DomainError as error:
            send_error = error.detail
            status = http_status(error)
        else:
            messages.success(request, _("We texted a 6-digit code to %(phone)s.") % {"phone": user.phone.as_national})
            return redirect("accounts:verify_phone")
    elif request.method == "POST":
        code_form = forms.PhoneCodeForm(request.POST)
        status = 400
        if code_form.is_valid():
            try:
                services.verify_phone_code(user, code_form.cleaned_data["code"])
            except DomainError as error:
                code_form.add_error(None, error.detail)
                status = http_status(error)
            else:
                messages.success(request, _("Your phone number is verified."))
                return redirect("accounts:profile")
    return render(
        request, "accounts/verify_phone.html", {"code_form": code_form, "send_error": send_error}, status=status
    )


@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = forms.PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password was changed."))
        return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form}, status=400 if form.errors else 200)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = forms.PasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = forms.SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["login_url"] = reverse("accounts:login")
        return context


@require_http_methods(["POST"])
def set_language(request):
    """Django's language switch, which also keeps a logged-in user's choice for their emails."""
    from django.views.i18n import set_language as django_set_language

    response = django_set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES) and language != request.user.language:
        services.update_profile(request.user, language=language)
    return response
