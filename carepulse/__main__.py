"""`python -m carepulse` is the same as the `carepulse` command."""

import sys

from carepulse.cli import main

sys.exit(main())
