"""A project's risk register: risks rated for likelihood and impact on 1–5 scales.

The score is likelihood × impact (1–25); a risk is *assessed* once both are rated. Levels
follow the usual 5 × 5 matrix: 1–4 low, 5–9 medium, 10–16 high, 20–25 critical.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workflow import limits
from workflow.errors import invalid_fields
from workflow.org import PersonId

Rating = Annotated[int, Field(ge=1, le=5)]


class RiskStatus(StrEnum):
    """Open (watched), being mitigated, or closed (passed or no longer relevant)."""

    open = "open"
    mitigating = "mitigating"
    closed = "closed"


class RiskFields(BaseModel):
    """What a person records about one risk."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, Field(min_length=1, max_length=limits.TEXT["title"])]
    likelihood: Rating | None = None
    impact: Rating | None = None
    owner: PersonId | None = None
    mitigation: Annotated[str, Field(max_length=limits.TEXT["description"])] = ""
    status: RiskStatus = RiskStatus.open

    @field_validator("title", "mitigation", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @property
    def assessed(self) -> bool:
        return self.likelihood is not None and self.impact is not None


def validate_risk(data: dict[str, Any]) -> RiskFields:
    """`data` as RiskFields, or a UsageError naming every bad field."""
    try:
        return RiskFields.model_validate(data)
    except ValidationError as exc:
        raise invalid_fields("risk", list(exc.errors()), "risk.invalid") from None


def score(likelihood: int | None, impact: int | None) -> int | None:
    """likelihood × impact, or None until both are rated."""
    return likelihood * impact if likelihood is not None and impact is not None else None


def level(value: int | None) -> str | None:
    """low, medium, high or critical for a score; None for an unassessed risk."""
    if value is None:
        return None
    if value <= 4:
        return "low"
    if value <= 9:
        return "medium"
    if value <= 16:
        return "high"
    return "critical"
