"""Static files for production: content-hashed names, so browsers may keep them for a year.

`bidcart serve` collects static files with this storage (settings pick it when WhiteNoise serves the
collected folder, not the apps' folders): every file gets a hashed copy ("room.3f2a9c1b.js") listed in
a manifest, `{% static %}` answers the hashed name, and WhiteNoise sends hashed files with
`Cache-Control: max-age=315360000, public, immutable`. A new release has new names, so nothing stale is
ever served from a browser's cache. `bidcart run`, DEBUG and the tests serve the apps' folders as they
are (no manifest needed, edits show at once).
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # The live room's ES modules import each other by relative path ("./clock.js"): rewrite those imports
    # to the hashed names too, or the hashed room.js would load unhashed (and not immutable) modules.
    support_js_module_import_aggregation = True
    # A file missing from the manifest (e.g. a template naming a file that was never collected) falls
    # back to its plain name instead of turning the page into a 500.
    manifest_strict = False
