"""Logging in (page or API) merges the visitor's session cart into the user's cart and says what changed."""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.translation import gettext as _

from . import services
from .selectors import SESSION_KEY


@receiver(user_logged_in, dispatch_uid="bidcart.cart.merge_on_login")
def merge_cart_on_login(sender, request, user, **kwargs):
    session = getattr(request, "session", None) if request is not None else None
    if session is None:
        return
    token = session.pop(SESSION_KEY, None)
    if not token:
        return
    result = services.merge_into_user(token, user)
    if getattr(request, "_messages", None) is None or not (result.moved or result.notes):
        return
    if result.moved:
        messages.info(request, _("The items you added before logging in are now in your cart."))
    for note in result.notes:
        messages.warning(request, note)
