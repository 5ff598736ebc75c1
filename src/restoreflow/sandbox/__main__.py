"""`python -m restoreflow.sandbox serve ...`: the sandbox server alone (used for process mode)."""

from __future__ import annotations

import argparse
import sys

from restoreflow.cli import sandbox_cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="restoreflow sandbox")
    sandbox_cmd.register(parser)
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
