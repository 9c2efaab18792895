"""Emails to a user, in the user's language, as HTML with a text alternative."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def send_user_email(user, template: str, context: dict) -> bool:
    """Render `{template}_subject.txt`, `{template}.txt` and `{template}.html` in the user's language
    and send them. A mail failure is logged and answered False, never raised: the caller's write stands."""
    context = {"user": user, **context}
    with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        logger.exception("could not send %s to user %s", template, user.pk)
        return False
    return True
