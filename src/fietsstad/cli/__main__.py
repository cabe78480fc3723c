"""``python -m fietsstad.cli``: the same as the ``fietsstad`` command."""

import sys

from fietsstad.cli import main

sys.exit(main())
