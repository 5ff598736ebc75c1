"""What every sub-command shares: errors, output formats, where backups and clusters are."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class CliError(Exception):
    """A user-facing failure: printed as `error: ...` with no traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def completes(action: argparse.Action, kind: str) -> argparse.Action:
    """Mark an argument whose values are names: restores, backups, schedules (the storage location's)
    or contexts (the kubeconfig's); `restoreflow completion` offers them."""
    action.completes = kind  # type: ignore[attr-defined]
    return action


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, with sub-command names measured at their own indentation, so none is wrapped."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction) and action.help is not argparse.SUPPRESS:
            longest = max(map(len, action.choices), default=0) + self._current_indent + self._indent_increment
            self._action_max_length = max(self._action_max_length, longest)


def add_verb(sub: Any, name: str, **options: Any) -> argparse.ArgumentParser:
    """A sub-command whose `--help` ends with its examples (its `epilog`), printed as written."""
    return sub.add_parser(name, formatter_class=HelpFormatter, **options)


def add_output_flag(
    parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json", "yaml")
) -> None:
    parser.add_argument("-o", "--output", choices=choices, default=choices[0], help="output format")


def add_location_flags(parser: argparse.ArgumentParser) -> None:
    """`--storage-location` / `--kubeconfig` / `--context`, as on every restore and backup command."""
    parser.add_argument(
        "--storage-location",
        metavar="URL",
        help="fsspec URL of the backup storage location (env RESTOREFLOW_STORAGE_LOCATION)",
    )
    parser.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (env KUBECONFIG)")
    completes(parser.add_argument("--context", help="kubeconfig context to use"), "contexts")


def print_data(data: Any, fmt: str) -> None:
    """Print plain data as JSON or YAML (stable key order as given)."""
    if fmt == "json":
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif fmt == "yaml":
        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.dump(data, sys.stdout)
    else:
        raise ValueError(fmt)


def print_restores(
    records: list[dict[str, Any]],
    output: str,
    label_columns: list[str] | None = None,
    show_labels: bool = False,
) -> None:
    """Restores as `restore get` prints them: a table, or a RestoreList in JSON or YAML."""
    from restoreflow import API_VERSION
    from restoreflow.describe import as_list, restore_table

    if output == "table":
        print(restore_table(records, label_columns or [], show_labels), end="")
    else:
        print_data(as_list("Restore", records, API_VERSION), output)


@contextmanager
def waiting(message: str) -> Iterator[None]:
    """A spinner on a terminal (rich), one plain line otherwise; on stderr, so output stays clean."""
    if not sys.stderr.isatty():
        print(f"{message}...", file=sys.stderr, flush=True)
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield
