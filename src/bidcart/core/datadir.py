"""The data folder's generated files (BIDCART_DATA_DIR): made by the commands that start bidcart (`run`,
`serve`, `manage`, `worker`, `beat`: cli.py), never by importing settings.

`bidcart run` (and `bidcart manage` on the same embedded configuration) generate a SECRET_KEY and the
admin's secret path (`serve` too, without BIDCART_ADMIN_PATH) once and keep them here, so a restart, or
a management command on the folder `make run` made, finds the same ones. Every generated file, and the SQLite
database with them, is
readable by its owner only (0600): the secret key signs sessions and the database holds password hashes.
No Django imports: `bidcart serve` calls this before Django starts.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_KEY_FILE = "secret_key"
ADMIN_PATH_FILE = "admin_path"
SQLITE_FILE = "bidcart.sqlite3"
STATIC_DIR = "static"  # settings.STATIC_ROOT: collectstatic's target, which whitenoise expects to exist


def write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (0600) from the first byte, and write `text`. Its folder
    is made if missing (the mounted simulator may be first to write into a new data folder)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # a file that existed keeps its old mode through O_TRUNC


def _private(path: Path, make) -> None:
    if path.exists():
        os.chmod(path, 0o600)  # one an older version left world-readable
    else:
        write_private(path, make())


def prepare(data_dir: Path, *, secret_key: bool, admin_path: bool, sqlite: bool) -> None:
    """Make the data folder with its static folder, and what this command needs in it: a generated
    SECRET_KEY (when the environment gives none), the admin's secret path (when BIDCART_ADMIN_PATH is not
    set), and the SQLite database file created 0600 before Django first opens it (SQLite gives its -wal
    and -shm files the database's mode). Files already there are kept (and made 0600)."""
    data_dir = Path(data_dir)
    (data_dir / STATIC_DIR).mkdir(parents=True, exist_ok=True)
    if secret_key:
        _private(data_dir / SECRET_KEY_FILE, lambda: secrets.token_urlsafe(50))
    if admin_path:
        _private(data_dir / ADMIN_PATH_FILE, lambda: f"manage-{secrets.token_urlsafe(9)}")
    if sqlite:
        _private(data_dir / SQLITE_FILE, lambda: "")
