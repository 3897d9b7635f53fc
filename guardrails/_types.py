"""Result types of the guardrails API (dataclasses, and a Pydantic Flag; each serialises exactly
as docs/formats.md#guardrails-check shows)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from rxassist.severity import SEVERITY_ORDER, Severity  # noqa: F401  (one order for every layer)

Status = Literal["generic", "brand", "fuzzy", "unknown"]


@dataclass(frozen=True)
class NormalizedDrug:
    input: str
    status: Status
    name: str | None
    ingredients: list[str]
    score: float
    # Why a name stayed unknown when something came close (never a guess: for people to read).
    candidates: list[str] = field(default_factory=list)
    note: str | None = None
    # For a fuzzy reading: the known name it was read as ("zentropil"). Not serialised: the
    # name_guess flag carries it, and the drug object keeps the shape docs/formats.md#guardrails-check documents.
    matched: str | None = None

    @property
    def known(self) -> bool:
        return self.status != "unknown"

    def to_dict(self) -> dict:
        d = asdict(self)
        if not d["candidates"]:
            del d["candidates"]
        if d["note"] is None:
            del d["note"]
        del d["matched"]
        return d


class Flag(BaseModel):
    """One finding. A Pydantic model, so it travels typed from the guardrails to the wire; built
    positionally or by keyword, in the field order below."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    severity: Severity
    ingredient: str | None
    drugs: list[str]
    message: str
    basis: str

    def __init__(self, *args, **values):
        super().__init__(**dict(zip(type(self).model_fields, args)), **values)

    def to_dict(self) -> dict:
        return self.model_dump()


@dataclass(frozen=True)
class CheckResult:
    drugs: list[NormalizedDrug]
    flags: list[Flag]

    def to_dict(self) -> dict:
        return {"drugs": [d.to_dict() for d in self.drugs],
                "flags": [f.to_dict() for f in self.flags]}

    @property
    def critical(self) -> list[Flag]:
        return [f for f in self.flags if f.severity == "critical"]
