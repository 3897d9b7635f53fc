"""Per-drug clinician feedback from the UI, stored locally in the eval suite's review CSV format
(rxassist.review_format), kept with owner-only permissions, so `rxassist eval` can read UI feedback like any other review."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from recommend.schemas import ConsultationResult
from rxassist.errors import InvalidInput
from rxassist.paths import rxassist_home
from rxassist.patient_text import patient_summary
from rxassist.review_format import append_review_rows

VERDICTS = {"appropriate": "yes", "not appropriate": "no", "unsure": "unsure"}
SOURCE_PREFIX = "assistant-ui"


def feedback_path() -> Path:
    return rxassist_home() / "feedback" / "reviews.csv"


def consultation_id(result: ConsultationResult) -> str:
    """A stable id for the consultation a recommendation came from, without storing its text
    twice: a short hash of the structured patient + diagnosis."""
    basis = json.dumps(result.model_dump(mode="json", include={"patient", "diagnosis"}),
                       sort_keys=True)
    return "ui-" + hashlib.sha256(basis.encode()).hexdigest()[:12]


def feedback_row(result: ConsultationResult, drug: str, verdict: str, comment: str = "",
                 reviewer: str = "") -> dict[str, str]:
    if verdict not in VERDICTS:
        raise InvalidInput(f"verdict must be one of {list(VERDICTS)}, got {verdict!r}",
                           param="verdict")
    recs = {r.drug: r for r in result.recommendations}
    if drug not in recs:
        raise InvalidInput(f"{drug!r} is not one of the recommended drugs", param="drug")
    return {"case_id": consultation_id(result),
            "diagnosis": result.diagnosis.text if result.diagnosis else "",
            "patient_summary": patient_summary(result.patient),
            "recommended_drug": drug, "rationale": recs[drug].rationale,
            "appropriate": VERDICTS[verdict], "comment": comment.strip(), "reviewer": reviewer,
            "source": f"{SOURCE_PREFIX}:{result.model}"}


def save_feedback(result: ConsultationResult, drug: str, verdict: str, comment: str = "",
                  reviewer: str = "", path: Path | None = None) -> Path:
    target = path or feedback_path()
    append_review_rows(target, [feedback_row(result, drug, verdict, comment, reviewer)])
    return target
