from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.contrib.auth.forms import SetPasswordForm as DjangoSetPasswordForm
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from bidcart.core.domain import DomainError
from bidcart.core.http import client_ip
from bidcart.core.ratelimit import RateLimited

from . import consents, emails, selectors, services
from .models import User


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    display_name = forms.CharField(label=_("Display name"), max_length=50)
    phone = PhoneNumberField(
        label=_("Phone number (optional)"),
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # 약관 동의: one checkbox per consent item, the required ones required
        for item in consents.ITEMS:
            self.fields[f"consent_{item.key}"] = forms.BooleanField(
                label=item.label,
                required=item.required,
                error_messages={"required": _("Agree to this to create an account.")},
            )

    def consent_fields(self):
        return [self[f"consent_{item.key}"] for item in consents.ITEMS]

    def account_fields(self):
        return [field for field in self.visible_fields() if not field.name.startswith("consent_")]

    def consents(self) -> dict[str, bool]:
        return {item.key: bool(self.cleaned_data.get(f"consent_{item.key}")) for item in consents.ITEMS}

    def clean_email(self):
        try:
            email = emails.normalize_email(self.cleaned_data["email"])
        except emails.InvalidEmail as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email already exists."), code="email_taken")
        return email

    def clean_display_name(self):
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a display name."), code="required")
        return name

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", forms.ValidationError(_("The two passwords differ."), code="password_mismatch"))
        elif p1:
            candidate = User(email=data.get("email") or "", display_name=data.get("display_name") or "")
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class LoginForm(forms.Form):
    """Email + password. `authenticate()` gets the request so django-axes counts every failure."""

    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        self.inactive_user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        email, password = self.cleaned_data.get("email"), self.cleaned_data.get("password")
        if email and password:
            try:
                self.user = authenticate(self.request, email=email, password=password)
            except RateLimited as error:
                raise forms.ValidationError(error.detail, code="rate_limited") from None
            if self.user is None:
                self.inactive_user = selectors.inactive_user_with_password(email, password)
                if self.inactive_user is not None:
                    raise forms.ValidationError(
                        _("Your account is not active yet: open the link we emailed you to verify your address."),
                        code="inactive",
                    )
                raise forms.ValidationError(_("The email or password is not correct."), code="invalid_login")
        return self.cleaned_data


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=50)
    phone = PhoneNumberField(
        label=_("Phone number"), required=False, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def clean_display_name(self):
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a display name."), code="required")
        return name


class PhoneCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6-digit code.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}),
    )


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's checks; the write goes through services.change_password (revokes API tokens too)."""

    def save(self, commit=True):
        return services.change_password(
            self.user, old_password=self.cleaned_data["old_password"], new_password=self.cleaned_data["new_password1"]
        )


class PasswordResetForm(DjangoPasswordResetForm):
    """Sends our HTML + text email in the account's language, through services."""

    def save(self, request=None, **kwargs):
        try:
            services.request_password_reset(
                self.cleaned_data["email"], request.build_absolute_uri("/"), ip=client_ip(request)
            )
        except RateLimited:
            raise  # too many from this client, whatever the address: the 429 page says so
        except DomainError:
            pass  # throttled for this address: the earlier email is on its way; the page says the same either way


class SetPasswordForm(DjangoSetPasswordForm):
    def save(self, commit=True):
        return services.set_password(self.user, self.cleaned_data["new_password1"])
