"""``python -m fake_dns [dns serve] [--host H] [--port P] [--zone FILE]``."""

import sys

from .standalone import main

sys.exit(main())
