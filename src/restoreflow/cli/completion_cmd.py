"""`restoreflow completion bash|zsh|fish`: shell completion read from the command's own parser.

As kubectl and velero do it: the printed script is a thin shim that, at each TAB, runs the hidden
`restoreflow __complete SHELL WORD...` with the words typed so far. The answers come from walking
the argparse parser (verbs, sub-verbs, flags, `-o` values), so they never go stale; restore, backup
and schedule names come from the storage location on the line (or the environment). Nothing here
imports Prefect or the Kubernetes client, so a TAB costs what `restore get` costs.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from dataclasses import dataclass, field

SHELLS = ("bash", "zsh", "fish")
FILE_METAVARS = ("FILE", "PATH", "DIR", "URL", "RESTORE.yaml")
NAMES_TIMEOUT = 2.0  # seconds a TAB may spend listing names in the storage location

EXAMPLES = """examples:
  source <(restoreflow completion bash)        # this shell; add the line to ~/.bashrc to keep it
  source <(restoreflow completion zsh)         # after `autoload -U compinit && compinit`
  restoreflow completion fish | source         # or save it as ~/.config/fish/completions/restoreflow.fish
"""

BASH = """# restoreflow completion for bash: source <(restoreflow completion bash)
_restoreflow() {
    local IFS=$'\\n' cur=${COMP_WORDS[COMP_CWORD]}
    local -a reply
    reply=($("${COMP_WORDS[0]}" __complete bash "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    if [[ ${reply[0]} == files ]]; then
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
    else
        COMPREPLY=("${reply[@]:1}")
    fi
}
complete -F _restoreflow restoreflow
"""

ZSH = """#compdef restoreflow
# restoreflow completion for zsh: source <(restoreflow completion zsh)
_restoreflow() {
    local -a reply
    reply=("${(@f)$(${words[1]} __complete zsh "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ ${reply[1]} == files ]]; then
        _files
    else
        reply=("${(@)reply[2,-1]}")
        (( ${#reply} )) && _describe -t values restoreflow reply
    fi
}
if [[ ${funcstack[1]} == _restoreflow ]]; then _restoreflow "$@"; else compdef _restoreflow restoreflow; fi
"""

FISH = """# restoreflow completion for fish: restoreflow completion fish | source
function __restoreflow_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l reply ($words[1] __complete fish $words[2..-1] $current 2>/dev/null)
    if test "$reply[1]" = files
        __fish_complete_path $current
    else
        printf '%s\\n' $reply[2..-1]
    end
end
complete -c restoreflow -f -a '(__restoreflow_complete)'
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def register(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.add_argument("shell", choices=SHELLS, help="the shell to print the script for")
    parser.set_defaults(handler=print_script)


def print_script(args: argparse.Namespace) -> int:
    sys.stdout.write(SCRIPTS[args.shell])
    return 0


# -- the answers -------------------------------------------------------------------------------


@dataclass
class Answer:
    """What the shell should offer: file names, or these words (with a description each)."""

    files: bool = False
    words: list[tuple[str, str]] = field(default_factory=list)


def complete(parser: argparse.ArgumentParser, shell: str, words: list[str]) -> int:
    """`restoreflow __complete SHELL WORD...`: the first line says `files` or `words`, then one per line."""
    if shell not in SHELLS or not words:
        return 2
    words, prefix = _joined(words) if shell == "bash" else (words, "")
    answer = answer_for(parser, words[:-1], words[-1])
    print("files" if answer.files else "words")
    for word, help_text in answer.words:
        if shell == "bash":  # bash replaces only what follows the `=` it split the word at
            print(prefix + word.split("=", 1)[1] if prefix is not None and "=" in word else word)
        elif shell == "zsh":
            print(word.replace(":", "\\:") + (f":{help_text}" if help_text else ""))
        else:
            print(word + (f"\t{help_text}" if help_text else ""))
    return 0


def _joined(words: list[str]) -> tuple[list[str], str | None]:
    """Bash splits `--output=js` into `--output`, `=`, `js`: join them back.

    The prefix is what bash will replace: `=` when the cursor is just after it, "" after a value's
    first letters, None when the current word was not split.
    """
    prefix = None
    if words[-1] == "=" and len(words) > 1:
        words, prefix = [*words[:-2], words[-2] + "="], "="
    elif len(words) > 2 and words[-2] == "=":
        words, prefix = [*words[:-3], words[-3] + "=" + words[-1]], ""
    joined: list[str] = []
    for word in words:
        if joined and (word == "=" or joined[-1].endswith("=")) and joined[-1].startswith("-"):
            joined[-1] += word
        else:
            joined.append(word)
    return joined, prefix


def answer_for(parser: argparse.ArgumentParser, done: list[str], current: str) -> Answer:
    """The candidates for `current`, after the complete words `done` (the program name left out)."""
    parser, pending, positionals, seen = _walk(parser, done)
    if pending is not None:
        return _values(pending, current, "", seen)
    if current.startswith("-") and "=" in current:
        flag, value = current.split("=", 1)
        action = _options(parser).get(flag)
        return _values(action, value, f"{flag}=", seen) if action is not None else Answer()
    if current.startswith("-"):
        return Answer(words=_flags(parser, current))
    if positionals:
        return _values(positionals[0], current, "", seen)
    return Answer()


def _walk(
    parser: argparse.ArgumentParser, done: list[str]
) -> tuple[argparse.ArgumentParser, argparse.Action | None, list[argparse.Action], dict[str, str]]:
    """Follow the words through sub-commands; the flag awaiting a value; positionals still open."""
    pending: argparse.Action | None = None
    positionals = [a for a in parser._actions if not a.option_strings]
    seen: dict[str, str] = {}  # dest -> value: the storage location and kubeconfig the names come from
    for word in done:
        if pending is not None:
            seen[pending.dest] = word
            pending = None
        elif word.startswith("-") and word != "-":
            flag, has_value, value = word.partition("=")
            action = _options(parser).get(flag)
            if action is not None and _takes_value(action):
                if has_value:
                    seen[action.dest] = value
                else:
                    pending = action
        elif positionals and isinstance(positionals[0], argparse._SubParsersAction):
            chosen = positionals[0].choices.get(word)
            if chosen is None:  # not a command: nothing sensible to offer after it
                return parser, None, [], seen
            parser = chosen
            positionals = [a for a in parser._actions if not a.option_strings]
        elif positionals and positionals[0].nargs not in ("*", "+"):
            positionals = positionals[1:]
    return parser, pending, positionals, seen


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _flags(parser: argparse.ArgumentParser, current: str) -> list[tuple[str, str]]:
    """The parser's shown flags that start with `current` (long ones only after `--`)."""
    shown = [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS]
    return [
        (flag, _help(action))
        for action in shown
        for flag in action.option_strings
        if flag.startswith(current) and (flag.startswith("--") or not current.startswith("--"))
    ]


def _values(action: argparse.Action, current: str, prefix: str, seen: dict[str, str]) -> Answer:
    """An argument's possible values: its choices, names in the storage location, or file names."""
    if isinstance(action, argparse._SubParsersAction):
        shown = {choice.dest: choice.help or "" for choice in action._choices_actions}
        return Answer(
            words=[(name, help_text) for name, help_text in shown.items() if name.startswith(current)]
        )
    if action.choices:
        return Answer(words=[(f"{prefix}{c}", "") for c in action.choices if str(c).startswith(current)])
    kind = getattr(action, "completes", None)
    if kind:
        names = _contexts(seen.get("kubeconfig")) if kind == "contexts" else _names(kind, seen)
        return Answer(words=[(f"{prefix}{n}", "") for n in names if n.startswith(current)])
    if action.metavar in FILE_METAVARS:
        return Answer(files=True)
    return Answer()


def _names(kind: str, seen: dict[str, str]) -> list[str]:
    """Restore, backup or schedule names in the storage location; none when it cannot be read in time."""
    from restoreflow.cli.backup_cmd import STORAGE_ENV

    url = seen.get("storage_location") or os.environ.get(STORAGE_ENV)
    if not url:
        return []
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.extend(_read_names(kind, url)), daemon=True)
    reader.start()
    reader.join(NAMES_TIMEOUT)  # a TAB must not wait for an unreachable object store's retries
    return [] if reader.is_alive() else found


def _read_names(kind: str, url: str) -> list[str]:
    from restoreflow.backup import BackupError, BackupStorage

    try:
        storage = BackupStorage.open(url)
        if kind == "schedules":
            return sorted({b.schedule_name for b in storage.list_backups() if b.schedule_name})
        return storage.child_names(storage.path(kind))
    except (BackupError, OSError):
        return []


def _contexts(kubeconfig: str | None) -> list[str]:
    """The context names of the kubeconfig files kubectl would read (`--kubeconfig`, KUBECONFIG...)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from restoreflow.cli.preflight import kubeconfig_files

    names: set[str] = set()
    for path in kubeconfig_files(kubeconfig):
        try:
            document = YAML(typ="safe", pure=True).load(path.read_text())
        except (OSError, YAMLError, UnicodeDecodeError):
            continue
        contexts = document.get("contexts") if isinstance(document, dict) else None
        names.update(
            c["name"] for c in contexts or [] if isinstance(c, dict) and isinstance(c.get("name"), str)
        )
    return sorted(names)


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    return text if "%" not in text else ""


def main_complete(argv: list[str]) -> int:
    """The hidden `__complete SHELL WORD...` (kept out of `--help`)."""
    from restoreflow.cli import build_parser

    return complete(build_parser(), argv[0], argv[1:]) if argv else 2
