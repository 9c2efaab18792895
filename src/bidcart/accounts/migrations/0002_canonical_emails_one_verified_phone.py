"""Existing rows meet the new rules before the constraint arrives (0003):
- each email is rewritten to its canonical form (accounts.emails) unless that form is already another
  account's (then both stay as they are: an operator decides which is real) or it cannot be made canonical;
- where several accounts verified the same phone number, the earliest verification keeps it and the others
  become unverified (they can verify another number; nothing else about them changes)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from bidcart.accounts.emails import InvalidEmail, normalize_email

    User = apps.get_model("accounts", "User")
    for pk, email in User.objects.values_list("pk", "email").iterator():
        try:
            canonical = normalize_email(email)
        except InvalidEmail:
            continue
        if canonical != email and not User.objects.filter(email__iexact=canonical).exclude(pk=pk).exists():
            User.objects.filter(pk=pk).update(email=canonical)
    seen = set()
    verified = User.objects.filter(phone_verified_at__isnull=False).exclude(phone="").order_by("phone_verified_at", "pk")
    for pk, phone in verified.values_list("pk", "phone").iterator():
        if phone in seen:
            User.objects.filter(pk=pk).update(phone_verified_at=None)
        seen.add(phone)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
