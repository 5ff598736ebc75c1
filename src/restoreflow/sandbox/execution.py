"""`pods/exec`: the checks the API server and kubelet make, then a tiny command interpreter behind
the WebSocket channel protocol (`v4.channel.k8s.io`/`v5.channel.k8s.io`: stdout 1, stderr 2, and the
exit Status on channel 3), as `kubernetes.stream.stream()` speaks it.

Commands: `true`, `false`, `echo ARGS`, `sleep N`, `exit N`, `cat` (stdin to stdout), `hostname`, `pwd`,
and `sh -c`/`bash -c` scripts of those joined by `;`, `&&` and `||`. A missing executable fails as
containerd reports it (an InternalError Status on the error channel, no exit code); an unknown command
inside `sh -c` exits 127 with `sh: 1: NAME: not found`.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from restoreflow.sandbox import status

Write = Callable[[int, str], Awaitable[None]]
STDIN, STDOUT, STDERR, ERROR, CLOSE = 0, 1, 2, 3, 255
BUILTINS = ("true", "false", "echo", "sleep", "cat", "hostname", "pwd")
SHELLS = ("sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash")


def check_exec(pod: dict[str, Any] | None, name: str, container: str) -> None:
    """Raise the API server's (or kubelet's) error when this exec cannot start."""
    if pod is None:
        raise status.not_found(("", "pods"), name)
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers") or []]
    inits = [c["name"] for c in spec.get("initContainers") or []]
    if not container:
        if len(names) != 1:
            message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
            if inits:
                message += f" or one of the init containers: [{' '.join(inits)}]"
            raise status.bad_request(message)
        container = names[0]
    if container not in names + inits:
        raise status.bad_request(f"container {container} is not valid for pod {name}")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise status.bad_request(f"cannot exec into a container in a completed pod; current phase is {phase}")
    if not spec.get("nodeName"):
        raise status.bad_request(f"pod {name} does not have a host assigned")
    if not _running(pod, container):
        raise status.bad_request(f'unable to upgrade connection: container not found ("{container}")')


def _running(pod: dict[str, Any], container: str) -> bool:
    state = pod.get("status") or {}
    for entry in [*(state.get("containerStatuses") or []), *(state.get("initContainerStatuses") or [])]:
        if entry.get("name") == container:
            return "running" in (entry.get("state") or {})
    return False


@dataclass
class Shell:
    """Runs one exec's command, writing output through `write(channel, text)`."""

    write: Write
    hostname: str
    stdin: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    async def run(self, argv: list[str]) -> dict[str, Any]:
        """Run argv; return the Status sent on the error channel."""
        if not argv:
            return _failure_status("command must not be empty")
        if argv[0] in SHELLS and len(argv) >= 3 and argv[1] == "-c":
            return exit_status(argv, await self.script(argv[2]))
        if argv[0] in SHELLS and len(argv) == 1:
            return exit_status(argv, 0)
        if not self.known(argv[0]):
            return _failure_status(_start_failure(argv[0]))
        return exit_status(argv, await self.command(argv))

    @staticmethod
    def known(program: str) -> bool:
        return program.rsplit("/", 1)[-1] in BUILTINS or program in SHELLS

    async def script(self, text: str) -> int:
        code = 0
        for op, part in _split_script(text):
            if (op == "&&" and code != 0) or (op == "||" and code == 0):
                continue
            try:
                words = shlex.split(part)
            except ValueError as err:
                await self.write(STDERR, f"sh: 1: Syntax error: {err}\n")
                return 2
            if not words:
                continue
            if words[0] == "exit":
                return _int(words[1]) if len(words) > 1 else code
            code = await self.command(words)
        return code

    async def command(self, argv: list[str]) -> int:
        name, args = argv[0].rsplit("/", 1)[-1], argv[1:]
        if name == "true":
            return 0
        if name == "false":
            return 1
        if name == "echo":
            newline = not (args and args[0] == "-n")
            words = args[1:] if not newline else args
            await self.write(STDOUT, " ".join(words) + ("\n" if newline else ""))
            return 0
        if name == "sleep" and args:
            await asyncio.sleep(float(args[0].rstrip("s")))
            return 0
        if name == "cat" and not args:
            while (chunk := await self.stdin.get()) is not None:
                await self.write(STDOUT, chunk)
            return 0
        if name == "hostname":
            await self.write(STDOUT, self.hostname + "\n")
            return 0
        if name == "pwd":
            await self.write(STDOUT, "/\n")
            return 0
        if name in SHELLS and len(args) >= 2 and args[0] == "-c":
            return await self.script(args[1])
        await self.write(STDERR, f"sh: 1: {argv[0]}: not found\n")
        return 127


def _split_script(text: str) -> list[tuple[str, str]]:
    """Split a script on `;`, `&&`, `||` and newlines (outside quotes) into (operator, command)."""
    parts: list[tuple[str, str]] = []
    pattern = re.compile(r"""('[^']*'|"[^"]*"|&&|\|\||;|\n|[^'";&|\n]+|.)""")
    op, current = ";", ""
    for token in pattern.findall(text):
        if token in ("&&", "||", ";", "\n"):
            parts.append((op, current))
            op, current = (";" if token == "\n" else token), ""
        else:
            current += token
    parts.append((op, current))
    return [(o, p.strip()) for o, p in parts]


def _int(text: str) -> int:
    try:
        return int(text) & 0xFF
    except ValueError:
        return 2


def exit_status(argv: list[str], code: int) -> dict[str, Any]:
    """The kubelet's Status for a finished command (NonZeroExitCode carries the code as a cause)."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            "command terminated with non-zero exit code: error executing command "
            f"[{' '.join(argv)}], exit code {code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _start_failure(program: str) -> str:
    """containerd's error for an executable the image does not have."""
    exec_id = secrets.token_hex(32)
    return (
        "error executing command in container: failed to exec in container: "
        f'failed to start exec "{exec_id}": OCI runtime exec failed: exec failed: '
        f'unable to start container process: exec: "{program}": executable file not found in $PATH: unknown'
    )


def _failure_status(message: str) -> dict[str, Any]:
    """An exec that could not start: InternalError on the error channel, as the kubelet sends it."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }


def encode_status(state: dict[str, Any]) -> str:
    return json.dumps(state)
