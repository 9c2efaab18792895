"""`python -m bidcart.pgsim [--host H] [--port P] ...`: same as `bidcart pgsim`."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
