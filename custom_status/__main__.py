"""``python -m custom_status watch <status URL> [--key KEY]`` (see ``custom_status/watch.py``)."""

import sys

from custom_status.watch import main

if __name__ == "__main__":
    sys.exit(main())
