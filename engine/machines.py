"""A scheme compiled for the run time: its `transitions` machine and lookup tables.

Why `transitions`, and why this way: the machine is the scheme's state graph as a
well-known library understands it — states, named triggers, their sources and
destinations, checked when it is built (an unknown state is refused there, again, after
the scheme's own checks). It is built once per stored scheme version (``model=None``,
no auto transitions) and the engine consults its transition table for the two questions
a move asks: which actions leave this stage (`actions_from`) and where each leads
(`target`). No project is registered in it: a project's state is its database row,
read and written in one transaction under compare-and-set, and thousands of projects
would otherwise mean thousands of model objects kept in step with the rows. Guards and
callbacks stay out of the machine too: the rules (roles, checklist, gates, handoffs)
live in engine/lifecycle.py, where each refusal is data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transitions import Machine

from workflow.scheme import Level, Scheme


@dataclass(frozen=True)
class CompiledScheme:
    """A validated scheme plus what the engine looks up on every call."""

    version_id: int
    name: str
    version: int
    scheme: Scheme
    machine: Machine = field(repr=False)
    moves: dict[tuple[str, str], str]  # (stage, action) -> target stage
    actions_from: dict[str, list[str]]  # stage -> actions leaving it, in file order
    levels: dict[str, Level]  # role -> level

    def target(self, stage: str, action: str) -> str | None:
        return self.moves.get((stage, action))


def compile_scheme(version_id: int, version: int, scheme: Scheme) -> CompiledScheme:
    """Build the machine and derive the lookup tables from it."""
    machine = Machine(
        model=None,
        states=list(scheme.stages),
        initial=scheme.initial_stage,
        auto_transitions=False,
        send_event=False,
    )
    for name, action in scheme.actions.items():
        machine.add_transition(name, list(action.source), action.to)
    moves: dict[tuple[str, str], str] = {}
    for name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            moves[(source, name)] = str(transitions[0].dest)
    # The triggers leaving each state, in the order the scheme file lists the actions.
    actions_from = {s: [str(t) for t in machine.get_triggers(s)] for s in scheme.stages}
    levels = {role: r.level for role, r in scheme.all_roles.items()}
    return CompiledScheme(
        version_id, scheme.scheme, version, scheme, machine, moves, actions_from, levels
    )
