"""A scheme compiled for the run time: its `transitions` machine and lookup tables.

One machine per scheme version, built once (``model=None``, no auto transitions); no
project is ever registered in it. The engine reads its transition table, which costs a
dictionary lookup, instead of triggering events on model objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transitions import Machine

from workflow.scheme import Action, Level, Scheme


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

    def action(self, name: str) -> Action:
        return self.scheme.actions[name]


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
    actions_from: dict[str, list[str]] = {s: [] for s in scheme.stages}
    for name, action in scheme.actions.items():
        for src in action.source:
            actions_from[src].append(name)
    levels = {role: r.level for role, r in scheme.all_roles.items()}
    return CompiledScheme(
        version_id, scheme.scheme, version, scheme, machine, moves, actions_from, levels
    )
