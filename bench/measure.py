"""Measuring helpers the benchmarks share: a child process's own peak memory, and
interleaved, repeated comparisons.

Peak memory. A process's `ru_maxrss` is not its own: Python's subprocess starts a child
with vfork, and when the child execs, Linux carries the high-water mark of the memory it
shared with the parent into the child's count. So `RUSAGE_CHILDREN`, `os.wait4` and even
`getrusage(RUSAGE_SELF)` printed by the child itself report at least the parent's peak
(a 300 MB parent makes a 10 MB child read 311 MB). `/usr/bin/time -f %M` does not: GNU
time is a small C program that forks the command from itself and reports the command's
own peak from `wait4`, which is then inherited from a 2 MB process at most. It measures
any command as a black box, the CLI included, so every child here runs under it.

Interleaving. On a shared machine the speed drifts within seconds; timing A and then B
once moves their ratio by 2×. `interleave` runs the cases in turn, round after round
(ABAB…), and `Summary` reports each case's median and each ratio's median with the
spread (min–max) of the per-round ratios, so drift shows instead of hiding in one number.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TIME = shutil.which("time", path="/usr/bin:/bin") or ""


@dataclass(frozen=True)
class Sample:
    """One timed run: wall seconds, the process's own peak memory in MB (None when it
    was not measured), and what it printed."""

    seconds: float
    peak_mb: float | None = None
    stdout: str = ""


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> Sample:
    """Run `cmd`, timing it from start to exit, with its own peak memory (see the
    module's docstring) when /usr/bin/time is there."""
    wrapped = [TIME, "-f", "PEAK_KB=%M", *cmd] if TIME else list(cmd)
    start = time.perf_counter()
    done = subprocess.run(
        wrapped, cwd=cwd, env=None if env is None else dict(env), capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    peak, err = None, done.stderr
    if TIME:
        lines = err.rstrip("\n").split("\n")
        if lines and lines[-1].startswith("PEAK_KB="):
            peak = int(lines[-1].removeprefix("PEAK_KB=")) / 1024
            err = "\n".join(lines[:-1])
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{err[-2000:]}")
    return Sample(seconds, peak, done.stdout)


def timed(fn: Callable[[], object]) -> Sample:
    """Time an in-process call (no memory figure: it would be this process's)."""
    start = time.perf_counter()
    fn()
    return Sample(time.perf_counter() - start)


@dataclass
class Summary:
    """The samples of interleaved cases, round by round (`samples[name][round]`)."""

    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(s.seconds for s in self.samples[name])

    def peak(self, name: str) -> float | None:
        """The largest peak memory of the case's runs (MB), if measured."""
        peaks = [s.peak_mb for s in self.samples[name] if s.peak_mb is not None]
        return max(peaks) if peaks else None

    def ratio(self, name: str, base: str) -> tuple[float, float, float]:
        """`name` over `base`: the median of the per-round ratios and their min and max."""
        each = [
            a.seconds / b.seconds
            for a, b in zip(self.samples[name], self.samples[base], strict=True)
        ]
        return statistics.median(each), min(each), max(each)

    def ratio_text(self, name: str, base: str) -> str:
        mid, low, high = self.ratio(name, base)
        return f"{mid:.2f} × ({low:.2f}–{high:.2f})"


def interleave(
    cases: Mapping[str, Callable[[], Sample]],
    rounds: int,
    *,
    prepare: Callable[[str], None] | None = None,
) -> Summary:
    """Run every case once per round, in turn, for `rounds` rounds (the order alternates
    between rounds, so neither case always runs first); `prepare(name)` runs untimed
    before each run (e.g. to copy a fresh database for a command that writes)."""
    summary = Summary({name: [] for name in cases})
    names = list(cases)
    for number in range(rounds):
        for name in names if number % 2 == 0 else names[::-1]:
            if prepare is not None:
                prepare(name)
            summary.samples[name].append(cases[name]())
    return summary


def nice_env(**extra: str) -> dict[str, str]:
    """The environment for a child: this one, plus `extra`."""
    return {**os.environ, **extra}


def mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MB"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:,.2f} ms"
