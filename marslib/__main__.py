"""Entry point of `python -m marslib`."""

import sys

from marslib.cli import main

sys.exit(main())
