"""Generated argument fuzz over every `shema` command: whatever a user types, the CLI keeps
its contract (README "Commands"): exit 0, 1, 2 or 3; an error is one line on stderr;
no traceback and never the catch-all's "unexpected error".

The click tree is walked from `cli.main` at collection time, so a new command or option
is fuzzed without touching this file; each command is its own test, so a failure names
it. One demo database (`shema demo`) is built per module and copied for every example,
so an example may write and the next one still starts from the demo. Each example runs
in process (CliRunner), in its own scratch directory, with a clean environment and an
empty stdin. After each example the copy must still be a sound database whose hash
chains verify (a command may refuse, never corrupt).

Each command is first probed systematically (Hypothesis' explicit examples, generated
from the tree): a plain valid command line with ONE value-taking parameter replaced by
each of a few core hostile values of its kind. Then come the generated examples: mostly a
plausible command line built from the demo's projects, people, units, ideas and the
unified scheme's names with one parameter given a hostile value (huge or non-finite
numbers, impossible dates, non-ASCII and surrogate-escaped text, 10 000 characters,
unusable paths, `--`); some all valid, some with several hostile values, some dropping
required parameters or adding a stray token.

Work is capped by example count, not by a time limit: SHEMA_FUZZ_EXAMPLES (default 600)
generated examples are split across the commands by how many parameters each has (the
probes come on top, about 500). The run is derandomized: the same examples every time.
Shrinking is off by default to keep the module fast while the product has bugs (the
failure message gives the exact command line); SHEMA_FUZZ_SHRINK=1 turns it on.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import sqlite3
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import cli

REPO = Path(__file__).resolve().parent.parent
SCHEME_FILE = REPO / "schemes" / "unified.yaml"
ORG_FILE = REPO / "schemes" / "ogre.yaml"
COORDINATOR = "ilze.kalnina"
PEOPLE = ["ilze.kalnina", "janis.ozols", "liga.ozolina", "zane.roze"]
DB_PLACEHOLDER = "<EXAMPLE-DB>"  # replaced by the example's own database URL

# Commands that never return on their own; everything else in the tree is fuzzed.
EXCLUDED: dict[tuple[str, ...], str] = {
    ("web",): "starts a uvicorn server and serves until interrupted",
    ("jobs", "run"): "runs the scheduler loop (sweeps and deliveries) until interrupted",
}
# Fixed, small example counts for commands that are slow by nature.
FIXED_EXAMPLES: dict[tuple[str, ...], int] = {
    ("demo",): 3,  # builds and walks a whole demo database (~1.5 s a run)
}

TOTAL_EXAMPLES = int(os.environ.get("SHEMA_FUZZ_EXAMPLES", "600"))
SHRINK = os.environ.get("SHEMA_FUZZ_SHRINK", "") not in ("", "0")


# -- the command tree ------------------------------------------------------------------


def walk(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from walk(command.commands[name], (*path, name))


TREE = dict(walk(cli.main))
COMMANDS = {path: cmd for path, cmd in TREE.items() if path not in EXCLUDED}


def fuzzable(command: click.Command) -> list[click.Parameter]:
    return [p for p in command.params if p.name not in ("help",)]


def _weight(path: tuple[str, ...], command: click.Command) -> float:
    if isinstance(command, click.Group):
        return 1.0 if path else 4.0  # subgroups: stray tokens only; the root: global options
    params = fuzzable(command)
    return 2.0 + sum(0.5 if getattr(p, "is_flag", False) else 1.5 for p in params)


_TOTAL_WEIGHT = sum(_weight(p, c) for p, c in COMMANDS.items() if p not in FIXED_EXAMPLES)


def examples_for(path: tuple[str, ...]) -> int:
    if path in FIXED_EXAMPLES:
        return FIXED_EXAMPLES[path]
    return max(3, round(TOTAL_EXAMPLES * _weight(path, COMMANDS[path]) / _TOTAL_WEIGHT))


def command_id(path: tuple[str, ...]) -> str:
    return " ".join(path) or "(shema)"


# -- names from the shipped scheme -----------------------------------------------------


def _scheme_names() -> dict[str, list[str]]:
    try:
        from workflow.loader import load_scheme

        s = load_scheme(str(SCHEME_FILE))
        return {
            "stage": sorted(s.stages),
            "action": sorted(s.actions),
            "item": sorted({i for stage in s.stages.values() for i in stage.checklist}),
            "date_name": sorted(s.dates) or ["call_deadline"],
        }
    except Exception:  # a broken loader must not hide the other commands' results
        return {
            "stage": ["idea", "pre_assessment", "investment_plan", "application", "completed"],
            "action": ["submit_idea", "propose_for_plan", "include_in_plan", "withdraw"],
            "item": ["problem_statement", "estimated_cost", "target_group", "budget"],
            "date_name": ["call_deadline"],
        }


SCHEME_NAMES = _scheme_names()


# -- values ----------------------------------------------------------------------------

LONG = "<10000 x>"  # stands for 10 000 x's (expanded when run; keeps reports readable)
LONG_TEXT = "x" * 10_000
LATVIAN = "āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ"
TEXT_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " -_.,;:'\"!?#%&*()[]{}=+@$€“”—…\t"
    + LATVIAN
    + "\udcff\udcc4\udc81"  # surrogate-escaped bytes, as Python decodes invalid UTF-8 in argv
)  # no "/" and no NUL: random text never names an absolute path, and argv cannot hold NUL

NUMERIC_HOSTILE = [  # the few that break code most often: drawn first for number parameters
    "99999999999999999999",
    "1e999999",
    "Infinity",
    "NaN",
    "-1",
    "-5",
    "0",
    "",
]
DATE_HOSTILE = [
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "",
]
MORE_HOSTILE = [  # rarer ones, drawn among everything hostile
    "-99999999999999999999",
    "-1e999999",
    "-Infinity",
    "nan",
    "0x10",
    "1_000",
    "١٢٣",  # Arabic-Indic digits: str.isdigit() says yes
    "2026-13-01",
    "0000-00-00",
    "0001-01-01T00:00",
    "9999-12-31T23:59:59",
]
TEXT_HOSTILE = [
    "",
    " ",
    LONG,
    "Ķeguma “Ziemeļi” — āčē € ©",
    "\udcff\udcfe",
    "caf\udce9",
    "a\nb",
    "\t",
    "--",
    "-",
    "-x",
    "--bogus",
    "'; DROP TABLE projects; --",
    "%s%n{0}",
    "OGR-0000-0000",
    "ogr-2026-0001",
    "..",
]
PATH_IN_HOSTILE = [  # never /dev/zero or /dev/full: reading those never ends
    "",
    "/dev/null/x.csv",
    "/dev/null",
    "adir",
    "/tmp",
    "-",
    "empty.txt",
    "binary.bin",
    "bad.yaml",
    "latin1.csv",
    "flows_bad.csv",
    "no-such-file.yaml",
    LONG,
    "\udcff.yaml",
]
PATH_OUT_HOSTILE = [  # only places where a write fails or stays in the scratch directory
    "",
    "/dev/null/x.csv",
    "/dev/null",
    "/dev/full",
    "adir",
    "/tmp",
    LONG,
    "nodir/out.csv",
    "\udcffout.txt",
    "a\nb.txt",
]
DIR_HOSTILE = ["", "/dev/null/x", "/dev/null", "empty.txt", "adir", LONG, "\udcffdemo"]
DB_HOSTILE = [
    "",
    "sqlite:////dev/null/dir/x.db",
    "sqlite:///adir",
    "sqlite:////dev/null",
    "sqlite:///empty.txt",
    "sqlite:///binary.bin",
    "sqlite:///new.db",
    "sqlite://",
    "postgresql+psycopg://postgres@127.0.0.1:1/shema",
    "mysql://user@127.0.0.1:1/shema",
    "nonsense",
    "sqlite:///" + LONG,
]
KIND_HOSTILE = {
    "numeric": NUMERIC_HOSTILE,
    "date": DATE_HOSTILE,
    "in_file": PATH_IN_HOSTILE,
    "out_file": PATH_OUT_HOSTILE,
    "directory": DIR_HOSTILE,
    "db_url": DB_HOSTILE,
    "risk": ["R0", "R-1", "R", "r99999999999999999999", "R1e999999", "R١", "RR1"],
    "currency": ["LVLX", "eur ", "€", "XXX", "USD"],
    "delimiter": ["", ";;", "\n", '"', "tab", "\\t"],
    "date_pair": ["call_deadline", "=2026-03-31", "nodate=2026-03-31", "call_deadline=9999-12-31",
                  "call_deadline=0001-01-01", "call_deadline=2026-02-30"],
}  # fmt: skip
# Kinds whose values are paths: their hostile values come only from their own curated
# list, so no example can write outside its scratch directory or read an endless device.
PATH_KINDS = {"in_file", "out_file", "directory", "db_url"}
NUMERIC_KINDS = {"amount", "rate", "int", "year", "version", "limit", "soon", "rating", "idea",
                 "days"}  # fmt: skip
DATE_KINDS = {"date", "datetime"}
ALL_HOSTILE = sorted(
    {v for k, vs in KIND_HOSTILE.items() if k not in PATH_KINDS for v in vs}
    | set(TEXT_HOSTILE)
    | set(MORE_HOSTILE)
    | {"/dev/null/x.csv", "/dev/null", "adir"}
)


@dataclass
class Pools:
    """Valid-looking values, some discovered from the demo database."""

    db: Path
    codes: list[str]
    ideas: list[str]
    units: list[str]
    people: list[str]
    instruments: list[str]
    cache: dict[Any, Any] = field(default_factory=dict)


def kind_of(param: click.Parameter) -> str:
    """Which pool a parameter's values come from: by its name, else by its type."""
    name = param.name or ""
    by_name = {
        "code": "code",
        "person": "person", "owner": "person", "proposer": "person", "assignee": "person",
        "actor": "person",
        "unit": "unit",
        "stage": "stage", "action": "action", "item": "item",
        "ref": "idea", "refs": "docref", "risk": "risk",
        "instrument": "instrument", "instruments": "instrument",
        "funding_instrument": "instrument",
        "scheme_name": "scheme_name",
        "file": "in_file", "files": "in_file", "scheme_files": "in_file",
        "flows_file": "flows_file",
        "output": "out_file", "directory": "directory", "db_url": "db_url",
        "years": "years", "dates": "date_pair",
        "budget": "amount", "cost": "amount", "rate": "rate", "currency": "currency",
        "at": "datetime", "start": "date", "n": "days", "year": "year",
        "expect_version": "version", "limit": "limit", "soon_days": "soon",
        "likelihood": "rating", "impact": "rating", "delimiter": "delimiter",
        "municipalities": "partner", "organisations": "partner", "partners": "partner",
    }  # fmt: skip
    if name in by_name:
        return by_name[name]
    t = param.type
    if isinstance(t, click.Choice):
        return "choice"
    if isinstance(t, (click.types.IntParamType, click.types.FloatParamType)):  # and ranges
        return "int"
    if isinstance(t, click.DateTime):
        return "date"
    if isinstance(t, click.Path):
        return "in_file"
    return "text"


def text_strategy(max_size: int = 30) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(TEXT_ALPHABET), max_size=max_size)


def valid_values(kind: str, param: click.Parameter, pools: Pools) -> st.SearchStrategy[Any]:
    today = dt.date.today()
    sample = st.sampled_from
    if kind == "code":
        return sample(pools.codes)
    if kind == "person":
        return st.one_of(sample(PEOPLE), sample(pools.people))
    if kind == "unit":
        return st.one_of(sample(["krapes_pagasts", "suntazu_pagasts", "ogres_novads"]),
                         sample(pools.units))  # fmt: skip
    if kind in ("stage", "action", "item"):
        return sample(SCHEME_NAMES[kind])
    if kind == "idea":
        return sample([*pools.ideas, "1", "2", "3", "4", "5"])
    if kind == "docref":
        return sample(["OND/2026/123", "https://example.lv/lemums.pdf", "Nr. 2-15/42"])
    if kind == "risk":
        return sample(["R1", "R2", "1", "2", "r1"])
    if kind == "instrument":
        return sample(pools.instruments)
    if kind == "scheme_name":
        return sample(["unified", "no_such_scheme"])
    if kind == "in_file":
        return sample([str(SCHEME_FILE), str(ORG_FILE), "unified.yaml", "ogre.yaml"])
    if kind == "flows_file":
        return sample(["flows.csv", "flows_semicolon.csv"])
    if kind == "out_file":
        return sample(["out.txt", "out.csv", "burtnica.md", "termini.ics", "-", "Ķekava ©.md"])
    if kind == "directory":
        return sample(["demo", "demo ā"])
    if kind == "db_url":
        return st.just(DB_PLACEHOLDER)
    if kind == "date_pair":
        return st.builds(lambda n, d: f"{n}={d}", sample(SCHEME_NAMES["date_name"]),
                         sample(["2026-03-31", "2027-01-15", today.isoformat()]))  # fmt: skip
    if kind == "amount":
        return sample(["125000", "125000.00", "21828 LVL", "1 234,56", "0.01", "450000 EUR"])
    if kind == "rate":
        return sample(["4", "3.5", "4%", "3,5", "0"])
    if kind == "currency":
        return sample(["EUR", "LVL", "eur"])
    if kind == "datetime":
        return sample([today.isoformat(), f"{today.isoformat()}T10:00", "2027-01-15T08:00:00+02:00",
                       "2026-12-31T23:59"])  # fmt: skip
    if kind == "date":
        return sample([today.isoformat(), "2026-02-02", "2027-02-26", "2024-02-29"])
    if kind == "days":
        return st.integers(-30, 30).map(str)
    if kind == "year":
        return sample(["2026", "2027", "2025", str(today.year)])
    if kind == "version":
        return st.integers(1, 12).map(str)
    if kind == "limit":
        return sample(["1", "10", "100"])
    if kind == "soon":
        return sample(["0", "5", "250"])
    if kind == "rating":
        return st.integers(1, 5).map(str)
    if kind == "int":
        return st.integers(0, 100).map(str)
    if kind == "delimiter":
        return sample([",", ";", "tab"])
    if kind == "choice":
        return sample(list(param.type.choices))  # type: ignore[attr-defined]
    if kind == "partner":
        return sample(["Siguldas novads", "Biedrība “Krapes attīstībai”", "Ropažu novads"])
    if kind == "years":  # --year YEAR COST BENEFIT
        return st.tuples(sample(["2026", "2027", "2030"]), sample(["120000", "0", "1500.50"]),
                         sample(["0", "50000", "20 000"]))  # fmt: skip
    # titles, comments, reasons, descriptions, tags, searches, and whatever comes next
    return st.one_of(
        sample(["Krapes tautas nama jumta atjaunošana", "Jumts tek", "energoefektivitāte"]),
        text_strategy(),
    )


def hostile_values(kind: str) -> st.SearchStrategy[Any]:
    if kind in PATH_KINDS:
        return st.sampled_from(KIND_HOSTILE[kind])
    own = KIND_HOSTILE.get(kind, [])
    if kind in NUMERIC_KINDS:
        own = NUMERIC_HOSTILE
    elif kind in DATE_KINDS:
        own = DATE_HOSTILE
    elif kind == "flows_file":
        own = PATH_IN_HOSTILE
    focused = st.sampled_from(own or TEXT_HOSTILE)
    if kind == "years":
        # one of the three numbers of --year YEAR COST BENEFIT goes wrong
        good = ("2027", "120000", "0")
        return st.builds(
            lambda i, bad: tuple(bad if n == i else v for n, v in enumerate(good)),
            st.integers(0, 2), st.sampled_from(NUMERIC_HOSTILE),
        )  # fmt: skip
    # The parameter's own hostile values most often, then anything hostile, then noise.
    return st.one_of(focused, focused, focused, st.sampled_from(ALL_HOSTILE), text_strategy(60))


def value_of(param: click.Parameter, pools: Pools, hostile: bool) -> st.SearchStrategy[Any]:
    key = (id(param), hostile)
    if key not in pools.cache:
        kind = kind_of(param)
        pools.cache[key] = hostile_values(kind) if hostile else valid_values(kind, param, pools)
    strategy: st.SearchStrategy[Any] = pools.cache[key]
    return strategy


# -- command lines ---------------------------------------------------------------------

ROOT_TAILS = [  # what follows the global options in a root example
    ["status"],
    ["init"],
    ["project", "list"],
    ["audit", "verify"],
    ["idea", "instruments"],
    ["calendar", "show", "--year", "2026"],
    ["calendar", "add-days", "2026-12-03", "5"],
    ["outbox", "list"],
    ["org", "validate", str(ORG_FILE)],
]


def rare(draw: st.DrawFn, one_in: int = 10) -> bool:
    """True once in `one_in` draws; False is the simplest choice, the one Hypothesis
    favours and shrinks to, so the common case stays common."""
    return draw(st.sampled_from([False] * (one_in - 1) + [True]))


@st.composite
def command_line(draw: st.DrawFn, path: tuple[str, ...], command: click.Command,
                 pools: Pools) -> list[str]:  # fmt: skip
    params = fuzzable(command)
    # Mostly one hostile parameter (so a deep bug is not hidden behind an early usage
    # error), sometimes none, sometimes chaos.
    mode = draw(st.sampled_from(["one", "one", "one", "one", "none", "chaos"]))
    # a flag has no value to spoil: the hostile one is a parameter that takes values
    valued = [p for p in params if not getattr(p, "is_flag", False)] or params
    target = draw(st.sampled_from(valued)) if valued and mode == "one" else None

    options: list[list[str]] = []
    positionals: list[str] = []
    for param in params:
        hostile_here = param is target or (mode == "chaos" and draw(st.booleans()))
        if isinstance(param, click.Option):
            if param.is_flag and not param.count:
                if param is target or draw(st.booleans()):
                    names = param.opts + param.secondary_opts
                    options.append([draw(st.sampled_from(names))])
                continue
            if param.required:
                times = 1 if param is target or not rare(draw) else 0
            elif param is target:
                times = draw(st.integers(1, 2)) if param.multiple else 1
            elif param.multiple:
                times = draw(st.integers(0, 2))
            else:
                times = draw(st.integers(0, 1))
            for _ in range(times):
                name = draw(st.sampled_from(param.opts))
                value = draw(value_of(param, pools, hostile_here))
                values = list(value) if isinstance(value, tuple) else [value]
                if param.nargs == 1 and name.startswith("--") and rare(draw, 5):
                    options.append([f"{name}={values[0]}"])
                else:
                    options.append([name, *values])
        elif isinstance(param, click.Argument):
            if param.nargs == -1:
                lo = 1 if param.required else 0
                count = 0 if rare(draw) else draw(st.integers(lo, 3))
            else:
                count = param.nargs if param is target or not rare(draw, 15) else 0
            for _ in range(count):
                positionals.append(draw(value_of(param, pools, hostile_here)))

    if isinstance(command, click.Group):
        # never a child that does not return (EXCLUDED): a group's tail may name one
        children = sorted(n for n in command.commands if (*path, n) not in EXCLUDED)
        tail: list[str]
        if not path:
            tail = draw(st.sampled_from(ROOT_TAILS))
        else:
            subcommands: st.SearchStrategy[str] = (
                st.sampled_from(children) if children else st.nothing()
            )
            tail = draw(st.lists(st.one_of(subcommands, st.sampled_from(ALL_HOSTILE)), max_size=3))
        positionals = list(tail)

    tokens = [t for chunk in draw(st.permutations(options)) for t in chunk]
    if positionals and not isinstance(command, click.Group) and draw(st.booleans()):
        tokens.append("--")  # lets a value such as -5 through as a positional
    tokens += positionals
    if rare(draw):  # a stray token somewhere
        at = draw(st.integers(0, len(tokens)))
        tokens.insert(at, draw(st.sampled_from(ALL_HOSTILE)))

    if not path:  # the root's own options were drawn as its parameters
        return tokens
    who = draw(st.sampled_from(["coordinator"] * 5 + ["person"] * 3 + ["hostile", "nobody"]))
    prefix: list[str] = []
    if who == "coordinator":
        prefix = ["--as", COORDINATOR]
    elif who == "person":
        prefix = ["--as", draw(st.sampled_from(PEOPLE))]
    elif who == "hostile":
        prefix = ["--as", draw(st.sampled_from(TEXT_HOSTILE))]
    if rare(draw, 4):
        prefix += ["--lang", "en"]
    return [*prefix, *path, *tokens]


# -- one hostile value at a time ------------------------------------------------------
# Before the random examples, each command is probed systematically: a plain valid
# command line with ONE value-taking parameter replaced by each of a few core hostile
# values of its kind (the explicit phase; these do not count against the budget).

PROBE_VALUES = {
    "numeric": ["99999999999999999999", "1e999999", "Infinity", "-1"],
    "date": ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00"],
    "out_file": ["/dev/null/x.csv", "/dev/full", LONG],
    "in_file": ["/dev/null/x.csv", "adir", "binary.bin", LONG],
    "directory": ["/dev/null/x", "empty.txt", LONG],
    "db_url": DB_HOSTILE,
    "choice": [],  # click checks a choice itself
    "text": ["a\nb", "\udcff\udcfe", LONG, ""],
}


def probe_values(kind: str) -> list[Any]:
    if kind == "years":
        bad = PROBE_VALUES["numeric"]
        return [tuple(b if n == i % 3 else v for n, v in enumerate(("2027", "120000", "0")))
                for i, b in enumerate(bad)]  # fmt: skip
    if kind in NUMERIC_KINDS:
        return PROBE_VALUES["numeric"]
    if kind in DATE_KINDS:
        return PROBE_VALUES["date"]
    if kind == "flows_file":
        return PROBE_VALUES["in_file"]
    return PROBE_VALUES.get(kind, PROBE_VALUES["text"])


def first_valid(kind: str, param: click.Parameter, path: tuple[str, ...], pools: Pools) -> Any:
    """One plain valid value for a parameter (the probes' baseline)."""
    today = dt.date.today().isoformat()
    plain = {
        "code": pools.codes[0], "person": COORDINATOR, "unit": "krapes_pagasts",
        "idea": pools.ideas[0], "docref": "OND/2026/123", "risk": "R1",
        "instrument": pools.instruments[0], "scheme_name": "unified",
        "in_file": str(ORG_FILE if path[:1] == ("org",) else SCHEME_FILE),
        "flows_file": "flows.csv", "out_file": "out.txt", "directory": "demo",
        "db_url": DB_PLACEHOLDER, "amount": "125000", "rate": "4", "currency": "EUR",
        "datetime": today, "date": today, "days": "5", "year": "2026", "version": "1",
        "limit": "10", "soon": "5", "rating": "3", "int": "1", "delimiter": ";",
        "partner": "Siguldas novads", "years": ("2027", "120000", "0"),
        "date_pair": f"{SCHEME_NAMES['date_name'][0]}=2026-03-31",
    }  # fmt: skip
    if kind in ("stage", "action", "item"):
        return SCHEME_NAMES[kind][0]
    if kind == "choice":
        return next(iter(param.type.choices))  # type: ignore[attr-defined]
    return plain.get(kind, "Krapes tautas nama jumta atjaunošana")


# Options a command needs one of, though none is required: the probes' baseline has them.
BASELINE_EXTRA: dict[tuple[str, ...], set[str]] = {
    ("project", "cba", "set"): {"years"},  # the flows: --year … or --file
}


def probes(path: tuple[str, ...], command: click.Command, pools: Pools) -> list[list[str]]:
    if isinstance(command, click.Group) and path:
        return []  # a subgroup has no values of its own
    params = fuzzable(command)
    lines: list[list[str]] = []
    for target in params:
        if getattr(target, "is_flag", False):
            continue
        kind = kind_of(target)
        for bad in probe_values(kind):
            options: list[str] = []
            positionals: list[str] = []
            for param in params:
                wanted = param.required or param.name in BASELINE_EXTRA.get(path, set())
                if param is not target and not wanted:
                    continue
                value = bad if param is target else first_valid(kind_of(param), param, path, pools)
                values = list(value) if isinstance(value, tuple) else [value]
                if isinstance(param, click.Option):
                    options += [param.opts[-1], *values]
                else:
                    positionals += values
            if not path:
                lines.append([*options, "project", "list"])
            else:
                lines.append(["--as", COORDINATOR, *path, *options, "--", *positionals])
    return lines


# -- running an example ----------------------------------------------------------------


def clean_env(url: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SHEMA_")}
    env.update(SHEMA_DB=url, SHEMA_USER=None, SHEMA_LANG=None, SHEMA_DEBUG=None)
    return env


def shown(argv: list[str]) -> str:
    """The command line as a shell would take it (long values abbreviated)."""

    def one(token: str) -> str:
        if LONG in token:
            before, _, after = token.partition(LONG)
            return f"{one(before)}\"$(printf 'x%.0s' $(seq 10000))\"{one(after)}"
        if any(0xDC80 <= ord(c) <= 0xDCFF for c in token):
            raw = token.encode("utf-8", "surrogateescape")
            return (
                "$'"
                + "".join(
                    chr(b) if 0x20 <= b < 0x7F and chr(b) not in "'\\" else f"\\x{b:02x}"
                    for b in raw
                )
                + "'"
            )
        if "\n" in token or "\t" in token:
            return "$'" + token.replace("\\", "\\\\").replace("'", "\\'").replace(
                "\n", "\\n").replace("\t", "\\t") + "'"  # fmt: skip
        return shlex.quote(token)

    return "shema " + " ".join(one(t) for t in argv)


def make_scratch(parent: Path, pools: Pools) -> Path:
    """A directory for one example: the demo database's copy and the files examples use."""
    work = Path(tempfile.mkdtemp(dir=parent))
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{pools.db}{suffix}")
        if source.exists():
            shutil.copyfile(source, work / f"shema.db{suffix}")
    shutil.copyfile(SCHEME_FILE, work / "unified.yaml")
    shutil.copyfile(ORG_FILE, work / "ogre.yaml")
    (work / "adir").mkdir()
    (work / "empty.txt").write_bytes(b"")
    (work / "binary.bin").write_bytes(b"\xff\xfe\x00\x01SQLite format 2\x00" + bytes(range(256)))
    (work / "bad.yaml").write_text("stages: [\n  - {oops\n", encoding="utf-8")
    (work / "flows.csv").write_text("year,cost,benefit\n2027,120000,0\n2028,0,50000\n")
    (work / "flows_semicolon.csv").write_text("gads;izmaksas;ieguvumi\n2027;120 000,00;0\n")
    (work / "flows_bad.csv").write_text(
        "year,cost,benefit\n99999999999999999999,1e999999,NaN\n-1,Infinity,-Infinity\n"
    )
    (work / "latin1.csv").write_bytes(
        "gads,izmaksas,ieguvumi\n2027,1,2 ķ\n".encode("latin-1", "replace")
    )
    return work


TRY_LINE = re.compile(r"^Try '.*' for help\.$")
PROBLEM_LINE = re.compile(r"^[^\n:]+:\d+:\d+: ")


def stderr_is_one_error(result: Result) -> bool:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if len(lines) == 1:
        return True
    if result.exit_code == 2 and lines and lines[0].startswith("Usage: "):
        # click's own usage error: "Usage: …", "Try '… -h' for help.", "Error: …" (the
        # message may run on when it quotes a value the user gave with a newline in it)
        if len(lines) >= 3 and TRY_LINE.match(lines[1]) and lines[2].startswith("Error: "):
            return True
        # click's answer to a group given no command: its help, as a usage error
        if "Commands:" in lines:
            return True
    # An invalid input file: one FILE:LINE:COL line per problem, as `scheme validate`
    # documents (exit 2).
    return result.exit_code == 2 and bool(lines) and all(PROBLEM_LINE.match(x) for x in lines)


def check_database(db: Path) -> str | None:
    """Why the example's database is no longer sound, or None."""
    if not db.exists():
        return None  # the example's own business (e.g. `demo --dir ""` in the scratch dir)
    try:
        with sqlite3.connect(db) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.close()
    except sqlite3.Error as exc:
        return f"sqlite: {exc}"
    if verdict != "ok":
        return f"PRAGMA integrity_check: {verdict}"
    result = CliRunner().invoke(
        cli.main, ["--as", COORDINATOR, "audit", "verify"], env=clean_env(f"sqlite:///{db}"),
        input="",
    )  # fmt: skip
    if result.exit_code != 0:
        return f"`shema audit verify` afterwards: exit {result.exit_code}: {result.output.strip()}"
    return None


def run_example(argv: list[str], pools: Pools, scratch: Path) -> None:
    work = make_scratch(scratch, pools)
    db = work / "shema.db"
    url = f"sqlite:///{db}"
    real = [url if a == DB_PLACEHOLDER else a.replace(LONG, LONG_TEXT) for a in argv]
    cwd = os.getcwd()
    os.chdir(work)
    try:
        result = CliRunner().invoke(cli.main, real, env=clean_env(url), input="")
    finally:
        os.chdir(cwd)

    def problem(what: str) -> str:
        detail = ""
        if result.exc_info and not isinstance(result.exception, SystemExit):
            detail = "\n" + "".join(traceback.format_exception(*result.exc_info))
        line = shown([url if a == DB_PLACEHOLDER else a for a in argv])
        return (
            f"{what}\n  {line}\n  exit {result.exit_code}\n"
            f"  stdout: {result.stdout[:400]!r}\n  stderr: {result.stderr[:800]!r}{detail}"
        )

    assert result.exception is None or isinstance(result.exception, SystemExit), problem(
        f"an exception escaped: {result.exception!r}"
    )
    assert result.exit_code in (0, 1, 2, 3), problem("exit code outside 0-3")
    for stream in (result.stdout, result.stderr):
        assert "unexpected error" not in stream, problem("the catch-all answered")
        assert "Traceback" not in stream, problem("a traceback reached the user")
    if result.exit_code != 0:
        assert stderr_is_one_error(result), problem("the error is not one line on stderr")
    broken = check_database(db)
    assert broken is None, problem(f"the database is damaged: {broken}")
    shutil.rmtree(work, ignore_errors=True)


# -- the prepared demo -----------------------------------------------------------------


def _discover(url: str, argv: list[str]) -> Any:
    result = CliRunner().invoke(cli.main, ["--as", COORDINATOR, *argv], env=clean_env(url),
                                input="")  # fmt: skip
    if result.exit_code != 0:
        return None
    try:
        return json.loads(result.stdout)
    except ValueError:
        return None


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pools, Path]:
    """`shema demo` once per module, and what the fuzz draws from it."""
    base = tmp_path_factory.mktemp("fuzz")
    folder = base / "demo"
    offline = clean_env(f"sqlite:///{base / 'unused.db'}")
    result = CliRunner().invoke(cli.main, ["demo", "--dir", str(folder)], env=offline, input="")
    assert result.exit_code == 0, result.output
    found = re.search(r"export SHEMA_DB=(\S+)", result.stdout)
    assert found, result.stdout
    url = found.group(1)
    db = Path(url.removeprefix("sqlite:///"))
    assert db.exists(), url

    year = dt.date.today().year
    listed = _discover(url, ["project", "list", "--json"]) or []
    codes = sorted({p["code"] for p in listed if isinstance(p, dict) and "code" in p})
    codes = codes or [f"OGR-{year}-{n:04d}" for n in range(1, 7)]
    ideas = _discover(url, ["idea", "list", "--all", "--json"]) or []
    idea_ids = sorted({str(i["id"]) for i in ideas if isinstance(i, dict) and "id" in i}) or ["1"]
    org = _discover(url, ["org", "show", str(ORG_FILE), "--json"]) or {}
    units = [u["id"] for u in org.get("units", [])] or ["krapes_pagasts", "suntazu_pagasts"]
    people = [p["id"] for p in org.get("people", [])] or PEOPLE
    catalogue = _discover(url, ["idea", "instruments", "--json"]) or []
    instruments = [i["id"] for i in catalogue] or ["erdf", "esf_plus", "eafrd_leader"]
    # codes that look right but are not there, next to the real ones
    codes += [f"OGR-{year}-9999", f"OGR-{year - 1}-0001"]
    pools = Pools(db, codes, idea_ids, units, people, instruments)
    scratch = base / "examples"
    scratch.mkdir()
    return pools, scratch


# -- the tests -------------------------------------------------------------------------


def test_the_walk_covers_the_tree() -> None:
    assert len(COMMANDS) >= 40, sorted(COMMANDS)
    for path, why in EXCLUDED.items():
        assert path in TREE, f"excluded command `shema {' '.join(path)}` ({why}) is gone"
    assert set(FIXED_EXAMPLES) <= set(COMMANDS)


def _fuzz_settings(path: tuple[str, ...]) -> settings:
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if SHRINK else [])
    return settings(
        max_examples=examples_for(path),
        deadline=None,
        derandomize=True,
        database=None,
        phases=phases,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=command_id)
def test_command_keeps_the_cli_contract(path: tuple[str, ...], demo: tuple[Pools, Path]) -> None:
    pools, scratch = demo
    command = COMMANDS[path]

    @_fuzz_settings(path)
    @given(argv=command_line(path, command, pools))
    def fuzz(argv: list[str]) -> None:
        run_example(argv, pools, scratch)

    for line in reversed(probes(path, command, pools)):
        fuzz = example(argv=line)(fuzz)
    fuzz()
