"""Every shell example in README.md runs as written, on the demo database.

README.md is parsed when the test runs: every fenced block whose info string is `sh`, in
document order, is split into commands (continuation lines joined, heredocs kept whole,
full-line comments dropped), and all of them run in one bash script in one scratch
directory, after `shema demo --dir ./shema-demo`, so `export` lines carry over from one
command and block to the next exactly as in a reader's terminal. A command must exit 0,
or N when its trailing comment says `exit N`; no output may show a traceback or an
"unexpected error". Every command that cannot run here as written is handled by one of
the named rules in `RULES` below, each with its reason; a rule that no longer matches any
README command fails the test too, so the list of exceptions never outlives its need.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SERVER_SECONDS = 5  # how long a long-running server is left running
TIMED_OUT = 124  # the exit code of `timeout` when the command was still running
TAIL_LINES = 8  # output lines quoted for a failing command
SCRIPT_TIMEOUT = 600  # seconds for the whole script; it takes well under a minute


# -- parsing README.md ------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One command of an `sh` block: where it starts, its text as written (continuation
    lines and heredoc body included, trailing comment removed) and that comment."""

    line: int
    code: str
    comment: str

    @property
    def expected(self) -> int:
        """The exit code the README promises: `# … exit N` says N, else success."""
        found = re.search(r"\bexit (\d+)\b", self.comment)
        return int(found.group(1)) if found else 0

    @property
    def display(self) -> str:
        """The command on one line, for failure reports."""
        return one_line(self.code)


def one_line(code: str) -> str:
    """Continuation lines joined; a heredoc body shown as `…`."""
    lines = code.split("\n")
    joined: list[str] = []
    for part in lines:
        joined.append(part.removesuffix("\\").strip())
        if not part.endswith("\\"):
            break
    text = " ".join(joined)
    return text + (" …" if len(joined) < len(lines) else "")


FENCE = re.compile(r" {0,3}(`{3,}|~{3,})\s*([^\s`]*)")


def sh_blocks(text: str) -> list[list[tuple[int, str]]]:
    """The `sh` fenced blocks of a Markdown text, each as (line number, line) pairs."""
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] | None = None
    closing: re.Pattern[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if closing is None:
            opened = FENCE.match(line)
            if opened:
                fence = opened.group(1)
                closing = re.compile(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*")
                current = [] if opened.group(2) == "sh" else None
        elif closing.fullmatch(line):
            if current is not None:
                blocks.append(current)
            closing, current = None, None
        elif current is not None:
            current.append((number, line))
    assert closing is None, "README.md ends inside a fenced block"
    return blocks


WORD_START = " \t\n;&|()<>"


def split_comment(code: str) -> tuple[str, str]:
    """Split a shell command from its trailing comment, as bash does: a `#` that starts a
    word outside quotes."""
    quote = ""
    i = 0
    while i < len(code):
        char = code[i]
        if quote == "'":
            if char == "'":
                quote = ""
        elif char == "\\":
            i += 2
            continue
        elif quote == '"':
            if char == '"':
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or code[i - 1] in WORD_START):
            return code[:i].rstrip(), code[i + 1 :].strip()
        i += 1
    return code, ""


HEREDOC = re.compile(r"(?<!<)<<(-?)\s*(['\"]?)([A-Za-z_]\w*)\2")


def split_commands(block: list[tuple[int, str]]) -> list[Command]:
    """The commands of one block: backslash continuations joined, heredocs kept with
    their command, blank lines and full-line comments dropped."""
    commands: list[Command] = []
    i = 0
    while i < len(block):
        number, line = block[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [line]
        while parts[-1].endswith("\\") and i < len(block):
            parts.append(block[i][1])
            i += 1
        code, comment = split_comment("\n".join(parts))
        body: list[str] = []
        for dash, _, word in HEREDOC.findall(code):
            while True:
                assert i < len(block), f"README.md:{number}: heredoc {word} is never closed"
                text = block[i][1]
                i += 1
                body.append(text)
                if (text.lstrip("\t") if dash else text) == word:
                    break
        commands.append(Command(number, "\n".join([code, *body]), comment))
    return commands


def readme_commands() -> list[Command]:
    text = README.read_text(encoding="utf-8")
    return [command for block in sh_blocks(text) for command in split_commands(block)]


# -- the rules for commands that cannot run here as written -----------------------------


@dataclass
class Context:
    """What the rules need to know about this run."""

    work: Path
    free_port: int


@dataclass
class Step:
    """What the script does for one README command."""

    command: Command
    code: str | None  # None: skipped
    expected: int
    rules: list[str] = field(default_factory=list)


def shema_subcommand(code: str) -> list[str]:
    """`shema [global options] A B …` → [A, B, …]; [] for any other command."""
    try:
        words = shlex.split(code)
    except ValueError:
        return []
    if not words or words[0] != "shema":
        return []
    rest = words[1:]
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("--db", "--as", "--lang") and rest:
            rest.pop(0)
    return rest


def skip_virtualenv(step: Step, context: Context) -> bool:
    # The "Two commands" blocks create a virtual environment and install the checkout
    # into it: CI itself runs exactly these, and this test already runs inside one.
    if re.search(r"\bpython3? -m venv\b", step.command.code):
        step.code = None
        return True
    return False


def skip_pip_install(step: Step, context: Context) -> bool:
    # Installing packages needs the network and changes the environment under test.
    if re.match(r"(\S*/)?pip3? install\b", step.command.code):
        step.code = None
        return True
    return False


def skip_benchmark(step: Step, context: Context) -> bool:
    # The benchmarks take minutes; they are measurements, not examples to check.
    if step.code is not None and re.match(r"\S*python3?\s+(-m\s+)?bench[./]", step.code):
        step.code = None
        return True
    return False


REMOTE_DB = re.compile(r"postgresql(\+\w+)?://(?:[^@\s/'\"]*@)?([^/:\s'\"]+)[^\s'\"]*")


def local_remote_database(step: Step, context: Context) -> bool:
    # A database on another host (the municipality's server) is not reachable here: a
    # fresh SQLite file stands in, so the block's `shema init`, `org load` and
    # `scheme load` still run.
    assert step.code is not None
    changed = False

    def replace(found: re.Match[str]) -> str:
        nonlocal changed
        if found.group(2) in ("127.0.0.1", "localhost", "::1"):
            return found.group(0)
        changed = True
        return f"sqlite:///{context.work / f'remote-{step.command.line}.db'}"

    step.code = REMOTE_DB.sub(replace, step.code)
    return changed


USAGE_BRACKETS = re.compile(r"[ \t]+\[[^\s\[\]'\"][^\[\]'\"]*\]")


def drop_usage_brackets(step: Step, context: Context) -> bool:
    # `shema outbox list [--status failed] [--json]` is a usage line, not a command:
    # it runs with the optional parts left out.
    assert step.code is not None
    code = USAGE_BRACKETS.sub("", step.code)
    changed = code != step.code
    step.code = code
    return changed


def bounded_server(step: Step, context: Context) -> bool:
    # `shema web` and `shema jobs run` serve until interrupted: each runs for a few
    # seconds and must still be running then (`timeout` exits 124); the web server gets
    # a free port unless the README names one, so a server already on 8000 is no matter.
    assert step.code is not None
    words = shema_subcommand(step.code)
    if words[:1] == ["web"]:
        if not any(w == "--port" or w.startswith("--port=") for w in words):
            step.code += f" --port {context.free_port}"
    elif words[:2] != ["jobs", "run"]:
        return False
    step.code = f"timeout {SERVER_SECONDS} {step.code}"
    step.expected = TIMED_OUT
    return True


def needs_graphviz(step: Step, context: Context) -> bool:
    # `… | dot -Tsvg` needs Graphviz, which the README calls optional outside CI: there
    # the command is skipped when `dot` is missing (CI installs it, so it always runs).
    assert step.code is not None
    if not re.search(r"\|\s*dot\b", step.code):
        return False
    if shutil.which("dot") is None and os.environ.get("CI") != "true":
        step.code = None
    return True


Rule = Callable[[Step, Context], bool]

# In order: a skip ends the list for its command.
RULES: dict[str, Rule] = {
    "virtualenv": skip_virtualenv,
    "pip-install": skip_pip_install,
    "benchmark": skip_benchmark,
    "remote-database": local_remote_database,
    "usage-brackets": drop_usage_brackets,
    "bounded-server": bounded_server,
    "graphviz": needs_graphviz,
}


def plan(command: Command, context: Context, year: int) -> Step:
    code = command.code
    # The README's project codes carry the year it was written in; the demo numbers its
    # projects in the current year (Europe/Riga), so the codes follow the calendar.
    if year != 2026:
        code = code.replace("OGR-2026-", f"OGR-{year}-")
    step = Step(command, code, command.expected)
    for name, rule in RULES.items():
        if rule(step, context):
            step.rules.append(name)
        if step.code is None:
            break
    return step


# -- the script -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


PROLOGUE = """\
set -o pipefail  # `shema … | dot` fails when shema does, not only when dot does
__failures={failures}
: > "$__failures"
__check() {{  # LABEL EXPECTED ACTUAL LOG COMMAND
  if [ "$3" -ne "$2" ]; then
    printf '%s: exit %s, expected %s: %s\\n' "$1" "$3" "$2" "$5" >> "$__failures"
    tail -n {tail} "$4" | sed 's/^/    | /' >> "$__failures"
  fi
}}
"""


def script_part(label: str, code: str, expected: int, log: Path, shown: str) -> str:
    return (
        f"# {label}\n{{ {code}\n}} > {shlex.quote(str(log))} 2>&1\n"
        f"__check {shlex.quote(label)} {expected} $? {shlex.quote(str(log))} "
        f"{shlex.quote(shown)}\n"
    )


def test_every_readme_shell_example_runs(tmp_path: Path) -> None:
    work = tmp_path / "work"
    logs = tmp_path / "logs"
    work.mkdir()
    logs.mkdir()
    shutil.copytree(REPO / "schemes", work / "schemes", ignore=shutil.ignore_patterns("__*"))
    context = Context(work, free_port())
    year = dt.datetime.now(ZoneInfo("Europe/Riga")).year
    commands = readme_commands()
    assert commands, "README.md has no `sh` examples"

    failures_file = tmp_path / "failures.txt"
    done = tmp_path / "done"
    parts = [PROLOGUE.format(failures=shlex.quote(str(failures_file)), tail=TAIL_LINES)]
    shown: dict[Path, str] = {}  # log file → what ran, for the traceback check
    setup = "shema demo --dir ./shema-demo"  # the README's tour assumes the demo is built
    shown[logs / "setup.log"] = f"(setup) {setup}"
    parts.append(script_part("(setup)", setup, 0, logs / "setup.log", setup))
    used: set[str] = set()
    for step in (plan(command, context, year) for command in commands):
        used.update(step.rules)
        label = f"README.md:{step.command.line}"
        if step.code is None:
            parts.append(f"# {label} skipped ({', '.join(step.rules)}): {step.command.display}\n")
            continue
        text = step.command.display
        if step.code != step.command.code:
            text += f"  [ran as: {one_line(step.code)}]"
        log = logs / f"{step.command.line:04d}.log"
        shown[log] = f"{label}: {text}"
        parts.append(script_part(label, step.code, step.expected, log, text))
    parts.append(f": > {shlex.quote(str(done))}\n")
    script = tmp_path / "readme.sh"
    script.write_text("".join(parts), encoding="utf-8")

    # A reader's shell: no SHEMA_* settings of the developer's or of CI, and no CI flag,
    # so the examples behave the same on a laptop and in CI.
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("SHEMA_")}
    # The `shema` of the interpreter running the tests, before any other on PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    finished = subprocess.run(
        ["bash", str(script)],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )

    problems: list[str] = []
    if failures_file.exists():
        problems += failures_file.read_text(encoding="utf-8", errors="replace").splitlines()
    if not done.exists():
        problems.append(
            f"the script stopped early (exit {finished.returncode}): {finished.stderr[-2000:]}"
        )
    for log, what in shown.items():
        output = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        for marker in ("Traceback", "unexpected error"):
            if marker in output:
                lines = [line for line in output.splitlines() if line.strip()]
                problems.append(f"{what}: output contains {marker!r}")
                problems += [f"    | {line}" for line in lines[-TAIL_LINES:]]
    problems += [
        f"rule {name!r} matches no README command any more: remove it"
        for name in RULES
        if name not in used
    ]
    assert not problems, "README examples that do not work as written:\n" + "\n".join(problems)
