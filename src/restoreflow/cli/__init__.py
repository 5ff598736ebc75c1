"""The `restoreflow` command.

Each concern registers its own sub-commands; modules are imported lazily so that the read-only
commands (`plan ...`, `restore get/describe/logs`, `backup ...`) do not import Prefect (except to
end Crashed the flow run of a restore whose process they find dead: orchestration/crashes.py).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from restoreflow.cli.common import CliError, HelpFormatter, add_verb

# (command, module, help): each module defines `register(subparsers)`; a help names every sub-verb.
COMMANDS: list[tuple[str, str, str]] = [
    ("plan", "restoreflow.cli.plan_cmd", "restore plans: validate, show, preview, schema, from-velero"),
    (
        "restore",
        "restoreflow.cli.restore_cmd",
        "restores: create, get, describe, logs, delete, verify, unlock",
    ),
    ("backup", "restoreflow.cli.backup_cmd", "the backups of a storage location: get, describe"),
    ("sandbox", "restoreflow.cli.sandbox_cmd", "the local Kubernetes API server (a test double): serve"),
    ("cluster", "restoreflow.cli.cluster_cmd", "a real control plane on loopback: up, down, status, build"),
    ("demo", "restoreflow.cli.demo_cmd", "restore the demo backup into a fresh sandbox"),
    ("server", "restoreflow.cli.server_cmd", "restoreflow's local Prefect server: status, start, stop, env"),
    ("version", "restoreflow.cli.version_cmd", "print the client, Prefect and cluster versions"),
    ("completion", "restoreflow.cli.completion_cmd", "print a shell completion script (bash, zsh, fish)"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="restoreflow",
        description="Restore Velero-format Kubernetes backups from restore plans.",
        formatter_class=HelpFormatter,
    )
    from restoreflow import __version__

    parser.add_argument("--version", action="version", version=f"restoreflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module, help_text in COMMANDS:
        command = add_verb(sub, name, help=help_text, description=help_text)
        importlib.import_module(module).register(command)
        command.epilog = command.epilog or _first_examples(command)
    parser.epilog = _first_examples(parser)
    return parser


def _first_examples(parser: argparse.ArgumentParser) -> str | None:
    """A command group's examples: the first of each of its sub-commands' (so they never go stale)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return None
    lines = [_first_example(child.epilog or "") for child in subs[0].choices.values()]
    return "examples:\n" + "".join(f"  {line}\n" for line in lines if line)


def _first_example(epilog: str) -> str | None:
    """The first one-line command of an `examples:` epilog, without its comment."""
    for line in epilog.splitlines():
        command = line.split("  #", 1)[0].strip()
        if line.startswith("  ") and "restoreflow " in command and not command.endswith("\\"):
            return command
    return None


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


def run() -> None:
    """The `restoreflow` program: `main`, then a quick exit after a command that ran Prefect."""
    code = main()
    if "prefect.flow_engine" in sys.modules:
        from restoreflow.orchestration.runner import exit_now

        exit_now(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
