"""The `restoreflow` command.

Each concern registers its own sub-commands; modules are imported lazily so that the read-only
commands (`plan ...`, `restore get/describe/logs`, `backup ...`) never import Prefect.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from restoreflow.cli.common import CliError

# (command, module, help): each module defines `register(subparsers)`.
COMMANDS: list[tuple[str, str, str]] = [
    ("plan", "restoreflow.cli.plan_cmd", "validate, show and convert restore plans"),
    ("restore", "restoreflow.cli.restore_cmd", "create, get, describe, log and delete restores"),
    ("backup", "restoreflow.cli.backup_cmd", "list and describe backups in a storage location"),
    ("sandbox", "restoreflow.cli.sandbox_cmd", "run the local Kubernetes API server (a test double)"),
    ("cluster", "restoreflow.cli.cluster_cmd", "run a real Kubernetes control plane on loopback"),
    ("demo", "restoreflow.cli.demo_cmd", "restore the demo backup into a fresh sandbox"),
    ("server", "restoreflow.cli.server_cmd", "start, stop and show restoreflow's local Prefect server"),
    ("version", "restoreflow.cli.version_cmd", "print the client, Prefect and cluster versions"),
    ("completion", "restoreflow.cli.completion_cmd", "print a shell completion script (bash, zsh, fish)"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="restoreflow",
        description="Restore Velero-format Kubernetes backups from restore plans.",
    )
    from restoreflow import __version__

    parser.add_argument("--version", action="version", version=f"restoreflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module, help_text in COMMANDS:
        command = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).register(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = argv if argv is not None else sys.argv[1:]
    if words[:1] == ["__complete"]:  # what the completion scripts call at each TAB
        from restoreflow.cli.completion_cmd import main_complete

        return main_complete(words[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.parse_args([*words, "--help"])
        return 2
    try:
        return int(handler(args) or 0)
    except CliError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`restoreflow restore get -o json | head`): stop quietly, like cat.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
