"""A logout or a password change reaches the user's open live-room sockets at once (#13.7)."""

from django.contrib.auth import get_user_model, user_logged_out
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from . import live


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        transaction.on_commit(lambda: live.recheck_sign_in(user.pk), robust=True)


@receiver(pre_save, sender=get_user_model())
def _note_password(sender, instance, update_fields=None, **kwargs):
    # Whether this save changes the password: compared with the row as stored (one query, on saves that may)
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        instance._password_changed = False
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = stored is not None and stored != instance.password


@receiver(post_save, sender=get_user_model())
def _password_changed(sender, instance, created, **kwargs):
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False
        user_id = instance.pk
        transaction.on_commit(lambda: live.recheck_sign_in(user_id), robust=True)
