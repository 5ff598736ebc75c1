"""`python -m restoreflow`: the same as the `restoreflow` command."""

import sys

from restoreflow.cli import main

sys.exit(main())
