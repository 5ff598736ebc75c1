"""`restoreflow restore unlock`: see which targets are held, and break a hold a dead restore left.

A restore holds `restoreflow-target-<api-server>-<namespace>` while it writes there (see
`orchestration.locking`). A holder that died frees it when its lease lapses, well under a minute
later; an operator who knows the holder is gone need not wait: `unlock` lists the holds, and breaks
the named ones (or `--all`) once confirmed. Breaking deletes the limit, so a restore waiting for it
takes it at once; a holder still running is not stopped, which is why it asks first.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from restoreflow.cli.common import CliError, add_verb

EXAMPLES = """examples:
  restoreflow restore unlock                                 # the holds, and which restore waits
  restoreflow restore unlock shop --confirm                  # break the hold on namespace shop
  restoreflow restore unlock --all                           # asks before breaking each
"""


def register_unlock(sub: Any) -> None:
    unlock = add_verb(
        sub,
        "unlock",
        help="see and break the holds restores keep on their targets",
        description="List the targets restores hold; break a hold a dead restore left (with confirmation).",
        epilog=EXAMPLES,
    )
    unlock.add_argument("targets", nargs="*", metavar="TARGET", help="a held target: its name or namespace")
    unlock.add_argument("--all", action="store_true", help="break every hold")
    unlock.add_argument("--confirm", action="store_true", help="break without asking")
    unlock.set_defaults(handler=unlock_targets)


def unlock_targets(args: argparse.Namespace) -> int:
    api_url = _api_url()
    if api_url is None:
        print("No Prefect server is running: no restore holds a target.")
        return 0
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        from prefect import get_client

        with get_client(sync_client=True) as client:
            held = _holds(client)
            if not args.targets and not args.all:
                _print_holds(client, held)
                return 0
            chosen = held if args.all else _chosen(held, args.targets)
            for limit in chosen:
                if args.confirm or _confirmed(limit.name):
                    _break(client, limit.name)
                    print(f"Broke the hold on {limit.name}.")
                else:
                    print(f"Left the hold on {limit.name}.")
    return 0


def _api_url() -> str | None:
    """The Prefect API restores use: the configured one, else restoreflow's local server if it runs
    (never started for this: without a server, nothing is held)."""
    from restoreflow.orchestration import server

    url = server.configured_api_url()
    if url:
        return url
    info = server.running()
    if info is None:
        return None
    os.environ.setdefault("PREFECT_HOME", str(server.prefect_home()))
    return info.api_url


def _holds(client: Any) -> list[Any]:
    from restoreflow.orchestration.locking import PREFIX

    limits = client.read_global_concurrency_limits(limit=200)
    return sorted((lim for lim in limits if lim.name.startswith(PREFIX) and lim.active_slots > 0), key=_name)


def _name(limit: Any) -> str:
    return str(limit.name)


def _print_holds(client: Any, held: list[Any]) -> None:
    if not held:
        print("No restore holds a target.")
        return
    width = max(len(limit.name) for limit in held)
    print(f"{'TARGET':<{width}}  {'SINCE':<20}  HOLDER")
    for limit in held:
        since = f"{limit.updated:%Y-%m-%d %H:%M:%S}" if limit.updated else ""
        print(f"{limit.name:<{width}}  {since:<20}  {_holder_text(client, limit.name)}")


def _holder_text(client: Any, name: str) -> str:
    from restoreflow.backup.liveness import gone
    from restoreflow.orchestration.locking import read_holders

    process = next(iter(read_holders(client, name)), {}).get("process")
    if not isinstance(process, dict):
        return "unknown"
    return f"pid {process.get('pid')} on {process.get('host')}" + (" (gone)" if gone(process) else "")


def _break(client: Any, name: str) -> None:
    from restoreflow.orchestration.locking import forget_holders

    client.delete_global_concurrency_limit_by_name(name)
    forget_holders(client, name)


def _chosen(held: list[Any], targets: list[str]) -> list[Any]:
    chosen = []
    for target in targets:
        matches = [lim for lim in held if lim.name == target or lim.name.endswith(f"-{target}")]
        if not matches:
            raise CliError(f'no restore holds a target "{target}" (`restoreflow restore unlock` lists them)')
        chosen += [m for m in matches if m not in chosen]
    return chosen


def _confirmed(name: str) -> bool:
    if not sys.stdin.isatty():
        raise CliError(f"breaking the hold on {name} needs --confirm when there is no terminal to ask")
    answer = input(
        f"Break the hold on {name}? A restore waiting for it starts at once, even if the holder "
        "still runs. [y/N] "
    )
    return answer.strip().lower() in ("y", "yes")
