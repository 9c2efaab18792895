"""`bidcart manage copymedia FOLDER`: carry uploads from a local media folder (a site that used local
files: BIDCART_DATA_DIR/media) into the configured storage, typically S3-compatible object storage
(MEDIA_STORAGE_URL). Run it in the new site's environment; the database rows keep their names, so the
pictures appear as soon as the files are there. See deploy/README.md, "Media".

Only pictures are copied (JPEG, PNG, WebP: what core/images.py stores). Anything else in the folder (a
file an older version stored under its uploader's name, e.g. `pwn.js`) is named and left behind: an object
store would serve it with a type guessed from its name. Files already in the storage are not written again,
so the command can run again after an interruption."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from bidcart.core.images import CONTENT_TYPES


class Command(BaseCommand):
    help = (
        "Copy the pictures under a local media folder into the configured media storage (MEDIA_STORAGE_URL), "
        "under the same names; files already there are skipped, files that are not pictures are not copied."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="the local media folder, e.g. /data/media (BIDCART_DATA_DIR/media)")

    def handle(self, *args, folder: str, **options):
        root = Path(folder).resolve()
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        copied = present = 0
        refused: list[str] = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            if path.suffix.lower().lstrip(".") not in CONTENT_TYPES:
                refused.append(name)
                continue
            if default_storage.exists(name):
                present += 1
                continue
            with path.open("rb") as handle:
                saved = default_storage.save(name, File(handle))
            if saved != name:
                raise CommandError(f"The storage stored {name} as {saved}; the database rows point at {name}.")
            copied += 1
        for name in refused:
            self.stderr.write(f"copymedia: not a picture, not copied: {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"copymedia: {copied} file(s) copied, {present} already there, {len(refused)} not copied."
            )
        )
