"""Where uploads (product and lot pictures with their renditions) are stored: read once from the
environment by settings.py. No Django imports here: settings import it.

- Nothing set: local files under BIDCART_DATA_DIR/media, served at /media/ by bidcart itself
  (core/media.py: safe types, nosniff, long caching) or by nginx (deploy/nginx.conf).
- `MEDIA_STORAGE_URL=s3://[KEY:SECRET@]bucket[/prefix]?endpoint_url=…&region_name=…&custom_domain=…`:
  S3-compatible object storage through django-storages (AWS S3, Naver Cloud Object Storage, MinIO, …).
  Query options are django-storages' S3 options (`querystring_auth=0`, `addressing_style=path`, …).
- Or the usual variables: `AWS_STORAGE_BUCKET_NAME` (+ `AWS_S3_ENDPOINT_URL`, `AWS_S3_REGION_NAME`,
  `AWS_S3_CUSTOM_DOMAIN`, `AWS_LOCATION`, `AWS_QUERYSTRING_AUTH`, `AWS_S3_ADDRESSING_STYLE`); the keys
  from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (or an instance role).

Pages link object-storage pictures straight to the store (or its CDN, `custom_domain`); the origin is
added to the Content-Security-Policy's img-src.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

S3_BACKEND = "storages.backends.s3.S3Storage"
LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
# Stored names are random and never rewritten: caches may keep them for a year.
CACHE_CONTROL = "public, max-age=31536000, immutable"
_BOOLEAN_OPTIONS = {"querystring_auth", "file_overwrite", "use_ssl", "verify", "gzip"}
_INT_OPTIONS = {"querystring_expire", "max_memory_size"}


@dataclass
class MediaStorage:
    storage: dict  # STORAGES["default"]
    url: str  # MEDIA_URL
    root: Path  # MEDIA_ROOT (local files)
    serve_locally: bool  # bidcart answers /media/ itself
    origins: list[str] = field(default_factory=list)  # for the CSP's img-src


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _s3(options: dict, root: Path) -> MediaStorage:
    options = {k: v for k, v in options.items() if v not in (None, "")}
    if not options.get("bucket_name"):
        raise ValueError("media storage: an S3 bucket name is required")
    for name in _BOOLEAN_OPTIONS & options.keys():
        if isinstance(options[name], str):
            options[name] = _flag(options[name])
    for name in _INT_OPTIONS & options.keys():
        options[name] = int(options[name])
    options.setdefault("file_overwrite", False)
    options.setdefault("object_parameters", {"CacheControl": CACHE_CONTROL})
    bucket, region = options["bucket_name"], options.get("region_name")
    if options.get("custom_domain"):
        protocol = options.get("url_protocol", "https:")
        base = f"{protocol}//{options['custom_domain']}/"
        origins = [base.rstrip("/")]
    elif options.get("endpoint_url"):
        endpoint = options["endpoint_url"].rstrip("/")
        base = f"{endpoint}/{bucket}/"
        host = urlsplit(endpoint)
        origins = [_origin(endpoint), f"{host.scheme}://*.{host.netloc}"]  # path or virtual-host style
    else:  # AWS itself
        base = f"https://{bucket}.s3.amazonaws.com/"
        origins = [f"https://{bucket}.s3.amazonaws.com"]
        if region:
            origins += [f"https://{bucket}.s3.{region}.amazonaws.com", f"https://s3.{region}.amazonaws.com"]
    if options.get("location"):
        base += options["location"].strip("/") + "/"
    return MediaStorage(
        storage={"BACKEND": S3_BACKEND, "OPTIONS": options}, url=base, root=root, serve_locally=False, origins=origins
    )


def from_environ(env, data_dir: Path) -> MediaStorage:
    """`env` is settings' django-environ reader."""
    local = MediaStorage(storage={"BACKEND": LOCAL_BACKEND}, url="/media/", root=data_dir / "media", serve_locally=True)
    url = env.str("MEDIA_STORAGE_URL", default="")
    if url:
        parts = urlsplit(url)
        if parts.scheme == "file":
            local.root = Path(unquote(parts.path)).resolve()
            return local
        if parts.scheme != "s3":
            raise ValueError(f"MEDIA_STORAGE_URL: unsupported scheme {parts.scheme!r} (s3:// or file://)")
        options = dict(parse_qsl(parts.query))
        options["bucket_name"] = parts.hostname or ""
        if parts.path.strip("/"):
            options["location"] = parts.path.strip("/")
        if parts.username:
            options["access_key"], options["secret_key"] = unquote(parts.username), unquote(parts.password or "")
        return _s3(options, local.root)
    bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="")
    if bucket:
        return _s3(
            {
                "bucket_name": bucket,
                "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=""),
                "region_name": env.str("AWS_S3_REGION_NAME", default=""),
                "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default=""),
                "location": env.str("AWS_LOCATION", default=""),
                "querystring_auth": env.str("AWS_QUERYSTRING_AUTH", default=""),
                "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default=""),
            },
            local.root,
        )
    return local
