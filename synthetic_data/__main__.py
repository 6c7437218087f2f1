"""``python -m synthetic_data``: see ``synthetic_data.cli``."""

import sys

from synthetic_data.cli import main

sys.exit(main())
