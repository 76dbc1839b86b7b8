"""Engine data in the page's words: refusals with stage, role, action, checklist and
unit titles instead of ids, people by name, what blocks an action, what a project asks,
and history entries."""

from __future__ import annotations

from typing import Any

from engine.permissions import OrgIndex
from engine.views import Ask, Blocked, Event
from render import formats, refusals
from render.catalogue import words
from workflow.errors import ShemaError
from workflow.labels import text
from workflow.scheme import Scheme

ROLE_PARAMS = frozenset({"owner", "needs", "roles", "role"})


class Speech:
    """How one page names things: in `lang`, from `scheme` (when a project is known)
    and the organisation `org`."""

    def __init__(self, lang: str, org: OrgIndex, scheme: Scheme | None = None) -> None:
        self.lang = lang
        self.org = org
        self.scheme = scheme
        self.w = words(lang)

    def name(self, person: str | None) -> str:
        if not person:
            return "—"
        found = self.org.org.people.get(person)
        return (found.name if found else None) or person

    def unit(self, unit: str) -> str:
        spec = self.org.org.units.get(unit)
        return text(spec.name if spec else None, self.lang, unit)

    def item(self, item: str, stage: str | None = None) -> str:
        """A checklist item's title: in `stage`, else in any stage that has it."""
        if self.scheme is None:
            return item
        stages = self.scheme.stages
        order = [stages[stage]] if stage in stages else []
        for spec in [*order, *stages.values()]:
            if item in spec.checklist:
                return text(spec.checklist[item], self.lang, item)
        return item

    def role(self, role: str) -> str:
        return self.scheme.role_title(role, self.lang) if self.scheme else role

    def _param(self, key: str, value: Any) -> str | None:
        scheme = self.scheme
        if key == "unit" and isinstance(value, str):
            return self.unit(value)
        if key == "fields" and isinstance(value, list):
            return ", ".join(self.w.get(f"field_{f}") or str(f) for f in value)
        if scheme is None:
            return None
        if key == "stage" and isinstance(value, str) and value in scheme.stages:
            return scheme.stage_title(value, self.lang)
        if key == "action" and isinstance(value, str) and value in scheme.actions:
            return scheme.action_title(value, self.lang)
        if key in ROLE_PARAMS:
            names = [value] if isinstance(value, str) else list(value or [])
            return ", ".join(self.role(r) for r in names) if names else None
        if key in ("item", "items"):
            names = [value] if isinstance(value, str) else list(value or [])
            return ", ".join(f"„{self.item(i)}”" for i in names)
        return None

    def refusal(self, exc: ShemaError) -> str:
        """`exc` as one sentence, naming people, stages, roles and items by their titles."""
        return refusals.render(exc, self.lang, name_of=self.name, words=self._param)

    def blocked(self, why: Blocked, stage: str | None = None) -> str:
        if why.kind == "unticked":
            return self.w["blocked_unticked"].format(item=self.item(why.params["item"], stage))
        if why.kind == "gate":
            return self.w[f"blocked_gate_{why.params['gate']}"]
        if why.kind == "on_hold":
            return self.w["blocked_on_hold"].format(
                since=formats.day(why.params["since"], self.lang)
            )
        return self.w[f"blocked_{why.kind}"]

    def ask(self, ask: Ask) -> str:
        if ask.kind == "checklist":
            return self.w.n("ask_checklist", ask.count or 0)
        if ask.kind in ("decide", "may_decide"):
            return self.w[f"ask_{ask.kind}"].format(title=ask.title or ask.action)
        return self.w[f"ask_{ask.kind}"]

    def asks(self, asks: list[Ask]) -> list[str]:
        """What a project asks, one phrase per kind: the decisions open to the person are
        named together ("Jāizlemj: Iekļaut investīciju plānā, Atsaukt projektu")."""
        out = []
        for kind in ("decide", "may_decide"):
            titles = [a.title or a.action or "" for a in asks if a.kind == kind]
            if titles:
                out.append((kind, self.w[f"ask_{kind}"].format(title=", ".join(titles))))
        said = {kind: text for kind, text in out}
        result = []
        for a in asks:
            if a.kind in said:
                result.append(said.pop(a.kind))
            elif a.kind not in ("decide", "may_decide"):
                result.append(self.ask(a))
        return result

    def side(self, level: str) -> str:
        """A side of a handoff: the parish side or the central administration."""
        return self.w.get(f"side_{level}", level)

    def event(self, e: Event) -> str:
        """What happened, e.g. "atzīmēts: „Problēmas apraksts”"."""
        key = f"event_{e.kind}"
        said = self.w.get(key, e.kind)
        item = e.data.get("item") if isinstance(e.data, dict) else None
        if isinstance(item, str):
            said += f": „{self.item(item, e.from_stage)}”"
        acting_for = e.data.get("acting_for") if isinstance(e.data, dict) else None
        if isinstance(acting_for, list) and acting_for:
            from engine.notify.messages import lv_case

            names = ", ".join(
                lv_case(self.name(p), "acc") if self.lang == "lv" else self.name(p)
                for p in acting_for
            )
            said += f" ({self.w['absence_acting_for'].format(name=names)})"
        return said
