"""`restoreflow completion bash|zsh|fish`: the printed script, sourced in the real shell, completes.

bash is driven as its completion system calls a function (COMP_WORDS split as bash splits them,
then COMPREPLY read); zsh through a pseudo-terminal, with compinit and a real TAB; fish with
`complete -C`. A shell that is not installed is skipped with that reason, never passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.cli import build_parser

BIN = str(Path(sys.executable).parent)


def shell_env(bsl: BackupStorage | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RESTOREFLOW_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    if bsl is not None:
        env["RESTOREFLOW_STORAGE_LOCATION"] = bsl.url
    return env


def script(shell: str) -> str:
    run = subprocess.run(
        [f"{BIN}/restoreflow", "completion", shell], capture_output=True, text=True, check=True
    )
    return run.stdout


def bash_reply(words: list[str], env: dict[str, str], cwd: Path | None = None) -> list[str]:
    """COMPREPLY for a line bash split into `words`, the cursor at the end of the last one."""
    assignment = " ".join(f"'{w}'" for w in words)
    program = (
        f"source <(restoreflow completion bash)\n"
        f"COMP_WORDS=({assignment}); COMP_CWORD={len(words) - 1}\n"
        '_restoreflow; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    run = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program], env=env, cwd=cwd, capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    return [line for line in run.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["restoreflow", "re"], ["restore"]),
        (["restoreflow", "co"], ["completion"]),
        (["restoreflow", "restore", "u"], ["unlock"]),
        (["restoreflow", "restore", "get", "-o", ""], ["table", "json", "yaml"]),
        (["restoreflow", "restore", "get", "--output", "=", "j"], ["json"]),
        (["restoreflow", "restore", "get", "--output", "="], ["=table", "=json", "=yaml"]),
        (["restoreflow", "restore", "verify", "-o", ""], ["text", "json", "yaml"]),
        (["restoreflow", "restore", "create", "--from-s"], ["--from-schedule"]),
        (["restoreflow", "restore", "create", "--wait", "--include-n"], ["--include-namespaces"]),
        (["restoreflow", "completion", ""], ["bash", "zsh", "fish"]),
        (["restoreflow", "bogus", ""], []),  # not a command: nothing, rather than the top level's verbs
    ],
)
def test_bash_completes_verbs_flags_and_values(words: list[str], expected: list[str]) -> None:
    assert bash_reply(words, shell_env()) == expected


def test_bash_completes_names_from_the_storage_location(bsl: BackupStorage) -> None:
    """Names come from the location on the line, else from RESTOREFLOW_STORAGE_LOCATION."""
    on_line = ["restoreflow", "restore", "logs", "--storage-location", bsl.url, "shop-"]
    assert bash_reply(on_line, shell_env()) == ["shop-partial", "shop-restore"]
    env = shell_env(bsl)
    assert bash_reply(["restoreflow", "restore", "describe", "shop-restore", "b"], env) == ["bad-restore"]
    backups = ["demo-backup", "nightly-20261124010000"]
    assert bash_reply(["restoreflow", "backup", "describe", ""], env) == backups
    assert bash_reply(["restoreflow", "restore", "create", "--from-backup", "d"], env) == ["demo-backup"]
    assert bash_reply(["restoreflow", "restore", "create", "--from-schedule", ""], env) == ["nightly"]
    assert bash_reply(["restoreflow", "restore", "create", "new-name", "x"], env) == []  # a new name
    nowhere = ["restoreflow", "restore", "get", "--storage-location", "/nonexistent/bsl", ""]
    assert bash_reply(nowhere, shell_env()) == []


def test_bash_completes_contexts_from_the_kubeconfig(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    contexts = [{"name": name, "context": {"cluster": "c", "user": "u"}} for name in ("prod", "dr")]
    kubeconfig.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "contexts": contexts}))
    line = ["restoreflow", "restore", "create", "--kubeconfig", str(kubeconfig), "--context", ""]
    assert bash_reply(line, shell_env()) == ["dr", "prod"]
    from_env = shell_env() | {"KUBECONFIG": str(kubeconfig)}
    assert bash_reply(["restoreflow", "version", "--context", "p"], from_env) == ["prod"]


def test_a_tab_does_not_wait_for_an_unreachable_object_store() -> None:
    """Names from a store that does not answer: none, after a short wait (not the client's retries)."""
    env = shell_env() | {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "k"}
    env |= {"AWS_SECRET_ACCESS_KEY": "s", "AWS_MAX_ATTEMPTS": "10"}
    started = time.monotonic()
    line = ["restoreflow", "restore", "get", "--storage-location", "s3://velero/prod", ""]
    assert bash_reply(line, env) == []
    assert time.monotonic() - started < 6  # about 2.5 s; the store's own retries take 10 s or more


def test_bash_completes_file_names_for_files(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "demo.yaml").write_text("")
    (tmp_path / "plan-notes.txt").write_text("")
    assert sorted(
        bash_reply(["restoreflow", "restore", "create", "--plan", "pl"], shell_env(), tmp_path)
    ) == [
        "plan-notes.txt",
        "plans",
    ]
    assert bash_reply(["restoreflow", "plan", "validate", "plans/"], shell_env(), tmp_path) == [
        "plans/demo.yaml"
    ]


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], list[str]]:
    """Every command path with a sub-command, and the sub-commands its help lists."""
    found: dict[tuple[str, ...], list[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found[path] = [choice.dest for choice in action._choices_actions]
            for name, sub in action.choices.items():
                found |= _commands(sub, (*path, name))
    return found


def test_every_verb_and_sub_verb_is_offered() -> None:
    """Read from the parser itself: a verb added tomorrow is completed without touching the scripts."""
    commands = _commands(build_parser())
    assert ("restore",) in commands and "unlock" in commands[("restore",)]
    lines = "\n".join(f"restoreflow __complete bash {' '.join(path)} ''" for path in commands)
    run = subprocess.run(["bash", "-c", lines], env=shell_env(), capture_output=True, text=True, check=True)
    offered = run.stdout.split("words\n")[1:]
    for (path, verbs), answer in zip(commands.items(), offered, strict=True):
        assert answer.split() == verbs, path


def test_a_tab_is_fast_and_imports_neither_prefect_nor_kubernetes(bsl: BackupStorage) -> None:
    code = (
        "import sys\n"
        "from restoreflow.cli import main\n"
        "where = ['--storage-location', sys.argv[1]]\n"
        "main(['__complete', 'bash', 'restore', 'create', *where, '--from-backup', ''])\n"
        "main(['__complete', 'bash', 'restore', 'describe', *where, ''])\n"
        "main(['__complete', 'bash', 'restore', 'create', '--context', ''])\n"
        "heavy = [m for m in ('prefect', 'kubernetes') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    run = subprocess.run([sys.executable, "-c", code, bsl.url], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "demo-backup" in run.stdout and "shop-restore" in run.stdout


# -- zsh and fish --------------------------------------------------------------------------------

ZSH_CAPTURE = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "autoload -U compinit && compinit -u -D"
zpty -w z "source <(restoreflow completion zsh)"
zpty -w z 'compadd() { local -a hits; builtin compadd -O hits "$@"; print -rl -- $hits >> $OUT
  builtin compadd "$@" }'
zpty -w z 'ended() { print -r -- END >> $OUT }; comppostfuncs=(ended)'
zpty -w z "$LINE"$'\t'
for i in {1..200}; do grep -qx END $OUT 2>/dev/null && break; sleep 0.05; done
zpty -d z
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed on this machine")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("restoreflow restore g", {"get"}),
        ("restoreflow restore get -o ", {"table", "json", "yaml"}),
        ("restoreflow restore get --output=j", {"--output=json"}),
        ("restoreflow restore logs shop-r", {"shop-restore"}),
        ("restoreflow restore create --plan pl", {"plans", "plan-notes.txt"}),  # zsh's own _files
    ],
)
def test_zsh_completes_at_a_real_tab(
    line: str, expected: set[str], bsl: BackupStorage, tmp_path: Path
) -> None:
    out = tmp_path / "matches"
    (tmp_path / "plans").mkdir()
    (tmp_path / "plan-notes.txt").write_text("")
    env = shell_env(bsl) | {"OUT": str(out), "LINE": line}
    started = time.monotonic()
    subprocess.run(["zsh", "-f", "-c", ZSH_CAPTURE], env=env, cwd=tmp_path, check=True, timeout=30)
    lines = out.read_text().splitlines()
    assert lines[-1] == "END", f"no completion finished within {time.monotonic() - started:.1f} s"
    assert set(lines[:-1]) == expected


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed on this machine")
def test_fish_completes_with_descriptions(bsl: BackupStorage) -> None:
    lines = [
        "restoreflow restore g",
        "restoreflow restore get --output=j",
        "restoreflow restore describe ",
        "restoreflow restore create --from-schedule ",
    ]
    program = "restoreflow completion fish | source\n" + "".join(
        f"complete -C '{x}'; echo ==\n" for x in lines
    )
    run = subprocess.run(
        ["fish", "--no-config", "-c", program], env=shell_env(bsl), capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    answers = [chunk.strip().splitlines() for chunk in run.stdout.split("==\n")[:-1]]
    assert answers == [
        ["get\tget restores"],
        ["--output=json"],
        ["bad-restore", "shop-partial", "shop-restore"],
        ["nightly"],
    ]


def test_completion_help_shows_how_to_load_it() -> None:
    run = subprocess.run([f"{BIN}/restoreflow", "completion", "--help"], capture_output=True, text=True)
    assert run.returncode == 0
    assert "source <(restoreflow completion bash)" in run.stdout
    assert script("bash").startswith("# restoreflow completion for bash")
    bad = subprocess.run([f"{BIN}/restoreflow", "completion", "tcsh"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice: 'tcsh'" in bad.stderr and "Traceback" not in bad.stderr
