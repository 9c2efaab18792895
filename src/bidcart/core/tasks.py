from importlib import import_module

from django.conf import settings

from .jobs import sweep


@sweep(every=3600)
def purge_expired_sessions() -> None:
    """What `clearsessions` does, on a schedule, so the session table does not grow forever."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
