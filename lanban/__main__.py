"""``python -m lanban``: the same as the ``lanban`` command."""

import sys

from lanban.desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
