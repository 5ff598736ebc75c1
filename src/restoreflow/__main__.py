"""`python -m restoreflow`: the same as the `restoreflow` command."""

from restoreflow.cli import run

run()
