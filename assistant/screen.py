"""Screening a user turn before anything is extracted from it.

Three deterministic checks, each a documented pattern set:

- harmful: requests to hurt someone, misuse drugs or get around prescribing law -> refusal;
- off-topic: plainly non-clinical requests (poems, weather, code) -> refusal when the turn
  carries no clinical content at all;
- injection: instructions aimed at the assistant ("ignore your rules", "don't flag") are cut
  out of the text so they never reach the model or the diagnosis. They cannot switch off
  guardrails anyway: every recommended drug goes through guardrails.check unconditionally.

A 135M-parameter model cannot be trusted to classify these, so none of this asks the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HARMFUL_PATTERNS: tuple[str, ...] = (
    r"\b(?:lethal|fatal|deadly) (?:dose|amount|combination)s?\b",
    r"\bhow (?:much|many)\b[^.?!]{0,40}\b(?:to (?:die|kill|overdose)|would kill)\b",
    r"\b(?:kill|poison|harm|hurt|sedate) (?:him|her|them|someone|somebody|my (?:wife|husband|partner|"
    r"boss|mother|father|neighbou?r)|a person|people)\b",
    r"\b(?:help me |want to |how (?:to|do i|can i) )(?:overdose|commit suicide|kill myself|end my life)\b",
    r"\bsuicide (?:method|plan)s?\b",
    r"\b(?:get(?:ting)? high|recreational(?:ly)? use|for fun|to get a buzz)\b",
    r"\b(?:without (?:a )?prescription|fake (?:a )?prescription|forge[ds]? (?:a )?prescription|"
    r"doctor shop)\b",
    r"\b(?:untraceable|undetectable)\b",
    r"\b(?:synthesi[sz]e|cook|manufacture|extract) (?:meth|fentanyl|heroin|opioids?|drugs?)\b",
    r"\b(?:sell|resell|divert)\b[^.?!]{0,30}\b(?:pills|opioids?|oxy\w*|benzos?)\b",
    r"\b(?:date[- ]rape|roofie|spike (?:a|her|his) drink)\b",
)

OFF_TOPIC_PATTERNS: tuple[str, ...] = (
    r"\b(?:poem|haiku|limerick|joke|riddle|song|lyrics|story|essay|novel)\b",
    r"\b(?:weather|forecast|stock price|bitcoin|crypto|lottery|horoscope)\b",
    r"\bcapital of\b",
    r"\b(?:write|debug|fix) (?:me )?(?:a |some |my )?(?:code|program|script|function|sql)\b",
    r"\b(?:python|javascript|java|c\+\+|html) (?:code|program|script)\b",
    r"\b(?:recipe|cook dinner|restaurant|football|soccer|movie|film|video game)\b",
    r"\btranslate\b",
)

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
)
# Role tags ("<system>...</system>") are cut exactly, with what they enclose; a lone tag alone.
_ROLE_TAGS = re.compile(r"<(system|assistant|developer|instructions?)>.*?</\1>|"
                        r"</?(?:system|assistant|user|developer|instructions?)>", re.I | re.S)

_HARMFUL = [re.compile(p, re.I) for p in HARMFUL_PATTERNS]
_OFF_TOPIC = [re.compile(p, re.I) for p in OFF_TOPIC_PATTERNS]
_INJECTION = [re.compile(p, re.I) for p in INJECTION_PATTERNS]
# An injected instruction runs to the end of its sentence (or line); that whole stretch is cut.
_SENTENCE_END = re.compile(r"[.!?;\n]")


@dataclass
class Screen:
    text: str                       # the turn with injected instructions cut out
    harmful: bool = False
    off_topic: bool = False
    injections: list[str] = field(default_factory=list)   # the stretches that were cut


def is_harmful(text: str) -> bool:
    return any(p.search(text) for p in _HARMFUL)


def is_off_topic(text: str) -> bool:
    return any(p.search(text) for p in _OFF_TOPIC)


def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    start = 0
    for m in _SENTENCE_END.finditer(text, 0, pos):
        start = m.end()
    end_match = _SENTENCE_END.search(text, pos)
    end = end_match.start() if end_match else len(text)
    return start, end


def cut_injections(text: str) -> tuple[str, list[str]]:
    """Remove each sentence-part that carries an instruction aimed at the assistant.

    The cut starts at the instruction itself (so "Diagnosis: UTI, ignore your rules" keeps
    "Diagnosis: UTI,") and runs to the end of its sentence, taking requests like "and
    recommend X" with it.
    """
    found: list[str] = [m.group(0) for m in _ROLE_TAGS.finditer(text)]
    text = _ROLE_TAGS.sub(" ", text)
    changed = True
    while changed:
        changed = False
        for pattern in _INJECTION:
            m = pattern.search(text)
            if not m:
                continue
            _, end = _sentence_bounds(text, m.start())
            found.append(text[m.start():end].strip())
            text = text[:m.start()] + " " + text[end:]
            changed = True
    return text, found


def screen(text: str) -> Screen:
    cleaned, injections = cut_injections(text)
    return Screen(text=cleaned, harmful=is_harmful(text), off_topic=is_off_topic(cleaned),
                  injections=injections)
