"""`bidcart manage makerenditions`: bring pictures stored before the image service (core/images.py) up to
date. Each product or lot picture without a recorded size is checked like a new upload, re-encoded under a
new random name with its renditions, and its row (and any relisted lot's row sharing the file) points at the
new file; the old file is deleted. A stored file that is not a picture at all (older versions kept lot
uploads such as `pwn.js` as they came) loses its row and its file. Safe to run again: done pictures are
skipped. See deploy/README.md, "Media"."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction

from bidcart.auctions.models import LotImage
from bidcart.catalog.models import ProductImage
from bidcart.core import images
from bidcart.core.domain import DomainError

FOLDERS = ((ProductImage, "products"), (LotImage, "lots"))


class Command(BaseCommand):
    help = (
        "Re-encode product and lot pictures stored before renditions existed; remove stored files that are not "
        "pictures."
    )

    def handle(self, *args, **options):
        done = removed = 0
        for model, folder in FOLDERS:
            for name in model.objects.filter(width=0).values_list("image", flat=True).distinct().iterator():
                if self._redo(model, folder, name):
                    done += 1
                else:
                    removed += 1
        self.stdout.write(self.style.SUCCESS(f"makerenditions: {done} picture(s) re-encoded, {removed} removed."))

    def _redo(self, model, folder: str, name: str) -> bool:
        rows = model.objects.filter(image=name, width=0)
        try:
            with default_storage.open(name, "rb") as handle:
                stored = images.store(handle, folder)  # checks first, like an upload
        except (DomainError, OSError, ObjectDoesNotExist) as refused:
            self.stderr.write(
                f"makerenditions: {name} is not a usable picture ({refused}); its rows and file are removed."
            )
            with transaction.atomic():
                rows.delete()
            images.delete([name])
            return False
        with transaction.atomic():
            rows.update(image=stored.name, width=stored.width, height=stored.height)
        images.delete([name])
        return True
