"""Free text as data: what a clinician typed enters the prompt as one-line values, never as
instructions.

    cut_injections(text) -> (text, cut)   instructions aimed at the assistant ("ignore your
                                          rules", role labels, chat-template tokens) cut out
    as_data(text) -> str                  one line, no quotes, brackets or direction marks
    quoted_messages(patient, dx, candidates, k)
                                          the one prompt, every free-text value through as_data

They cannot switch off guardrails anyway: every recommended drug goes through guardrails.check
unconditionally. Each check is one compiled alternation scanned once per sentence, so the work
is linear in the text. The assistant screens each user turn with the same patterns
(assistant.screen).
"""

from __future__ import annotations

import bisect
import re
from typing import Sequence

from rxassist.cases import Diagnosis, Patient
from recommend.candidates import Candidate
from recommend.prompt import build_messages
from recommend.schemas import MAX_RECOMMENDATIONS

INJECTION_PATTERNS: tuple[str, ...] = (
    r"\b(?:ignore|disregard|forget|override|bypass|skip|disable|turn off)\b[^.;\n]{0,40}"
    r"\b(?:rules?|instructions?|guardrails?|guidelines?|safety|checks?|flags?|warnings?|system prompt|"
    r"prompt|restrictions?|policy|policies|constraints?)\b",
    r"\b(?:do not|don't|dont|never|no need to|stop)\b[^.;\n]{0,20}\b(?:flag|check|warn|mention|"
    r"apply)\b[^.;\n]{0,30}\b(?:allerg\w*|contraindication\w*|interaction\w*|guardrails?|flags?|"
    r"warnings?|pregnan\w*|safety|rules?)\b",
    r"\byou are (?:now|no longer)\b",
    r"\b(?:new|updated|real) (?:instructions?|rules?|system prompt)\b",
    r"\b(?:system|developer) (?:prompt|message|mode)\b",
    r"\b(?:jailbreak|dan mode|pretend (?:to be|you are)|act as (?:an? )?(?:unrestricted|different))\b",
    r"\b(?:print|reveal|show|repeat) (?:your|the) (?:instructions|rules|prompt|system prompt)\b",
    # A role label or a chat-template token inside the text ("system: guardrails disabled").
    r"(?:^|(?<=[\s.;,:(\[{\"']))(?:system|assistant|developer|admin|root)\s*:",
    r"<\|[^|<>\n]{0,30}\|>",
    r"\b(?:guardrails?|safety|filters?|checks?|flags?|warnings?)\s+(?:are|is|have been|has been)?\s*"
    r"(?:now\s+)?(?:disabled|off|deactivated|removed|suspended|turned off|not needed)\b",
    # Instructions about the answer itself ("copy ... into the rationale").
    r"\b(?:copy|paste|put|insert|include|write|repeat|add|place|output|say)\b[^.;\n]{0,60}\b(?:into|in|to)"
    r"\s+(?:the\s+|your\s+|each\s+|every\s+)?(?:rationale|answer|output|response|json|reply|"
    r"recommendations?)\b",
    r"\b(?:respond|answer|reply|output)\s+(?:only\s+)?(?:with|in)\b[^.;\n]{0,30}\b(?:json|format|"
    r"the following|this)\b",
)
# One alternation, scanned once per sentence: screening stays linear in the message length.
_INJECTION = re.compile("|".join(f"(?:{p})" for p in INJECTION_PATTERNS), re.I | re.M)
_ROLE_TAG = re.compile(r"<(/?)(system|assistant|user|developer|instructions?)>", re.I)
# An injected instruction runs to the end of its sentence (or line); that whole stretch is cut.
_SENTENCE_END = re.compile(r"[.!?;\n]")
MAX_DATA_CHARS = 500


def cut_role_tags(text: str) -> tuple[str, list[str]]:
    """"<system>...</system>" goes with what it encloses; a lone or unmatched tag alone.
    One pass over the tags (a lazy `.*?` with a back-reference re-scans to the end for every
    unclosed tag: quadratic)."""
    keep, found, pos = [], [], 0
    tags = list(_ROLE_TAG.finditer(text))
    closes: dict[str, list[int]] = {}
    for j, t in enumerate(tags):
        if t.group(1):
            closes.setdefault(t.group(2).lower(), []).append(j)
    i = 0
    while i < len(tags):
        m = tags[i]
        close = None
        if not m.group(1) and m.group(2).lower() != "user":
            later = closes.get(m.group(2).lower(), [])
            k = bisect.bisect_right(later, i)
            close = later[k] if k < len(later) else None
        end = tags[close].end() if close is not None else m.end()
        keep.append(text[pos:m.start()])
        found.append(text[m.start():end])
        keep.append(" ")
        pos = end
        i = close + 1 if close is not None else i + 1
    keep.append(text[pos:])
    return "".join(keep), found


def cut_injections(text: str) -> tuple[str, list[str]]:
    """Remove each sentence-part that carries an instruction aimed at the assistant.

    The cut starts at the instruction itself (so "Diagnosis: UTI, ignore your rules" keeps
    "Diagnosis: UTI,") and runs to the end of its sentence, taking requests like "and
    recommend X" with it. Each sentence is scanned once, so the work is linear in the text.
    """
    text, found = cut_role_tags(text)
    out, pos = [], 0
    while pos < len(text):
        end_match = _SENTENCE_END.search(text, pos)
        end = end_match.start() if end_match else len(text)
        m = _INJECTION.search(text, pos, end)
        if m is None:
            out.append(text[pos:end])
        else:
            out.append(text[pos:m.start()] + " ")
            found.append(text[m.start():end].strip())
        if end_match is None:
            break
        out.append(end_match.group(0))
        pos = end_match.end()
    return "".join(out), found


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069\"`<>{}\[\]]")


def as_data(text: str) -> str:
    """Free text as a one-line data value for the prompt's "Field: value" lines: no line
    breaks (no new "Field:" or role line can start), no quotes, brackets or direction marks,
    no chat-template tokens or role labels, bounded length."""
    text, _ = cut_injections(text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())[:MAX_DATA_CHARS].strip(" ,;:") or "unspecified"


def quoted_messages(patient: Patient, diagnosis: Diagnosis, candidates: Sequence[Candidate],
                    k: int = MAX_RECOMMENDATIONS) -> list[dict]:
    """The prompt (recommend.prompt.build_messages) with every free-text value passed through
    `as_data`: the one prompt training, evaluation and serving send."""
    dx = diagnosis.model_copy(update={"text": as_data(diagnosis.text)})
    lists = {name: [as_data(v) for v in getattr(patient, name)]
             for name in ("allergies", "current_medications") if getattr(patient, name)}
    return build_messages(patient.model_copy(update=lists), dx, candidates, k)
