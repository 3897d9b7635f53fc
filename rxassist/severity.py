"""Flag severities, most urgent first; the order every list of flags is shown in."""

from typing import Literal

Severity = Literal["critical", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}


def severity_rank(severity: object) -> int:
    """Sort key: unknown severities after every known one."""
    return SEVERITY_ORDER.get(severity, len(SEVERITY_ORDER))  # type: ignore[arg-type]
