"""How much work the assistant API takes on: declared once, read by `rxassist serve`'s options
and by the app. Dependency-free, so building the CLI parser imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ApiLimits:
    max_body_bytes: int = MAX_BODY_BYTES
    concurrent: int = 4          # turns running at once (the engine batches them)
    queue: int = 8               # turns waiting for a slot; beyond: 429
    # Per turn, queue wait included; then 504.
    deadline_s: float = 900
    retry_after_s: int = 5
