"""Screening a user turn before anything is extracted from it.

Three deterministic checks, each a documented pattern set:

- harmful: requests to hurt someone, misuse drugs or get around prescribing law -> refusal;
- off-topic: plainly non-clinical requests (poems, weather, code) -> refusal when the turn
  carries no clinical content at all;
- injection: instructions aimed at the assistant ("ignore your rules", "don't flag") are cut
  out of the text so they never reach the model or the diagnosis. They cannot switch off
  guardrails anyway: every recommended drug goes through guardrails.check unconditionally.

A 135M-parameter model cannot be trusted to classify these, so none of this asks the model.
Harm is matched by intent (an amount or a way joined to an outcome or a target), measured on
tests/safety/harm_probes*.jsonl. Every check is one compiled alternation scanned once per
sentence, so screening is linear in the message length. `as_data`/`quoted_prompt` turn free
text into one-line data values before it enters the prompt.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

# Harm is screened by intent, not by exact phrase: each pattern joins a vocabulary of intent
# (an amount, an agent or a way) to an outcome or target (death, breathing or a heart stopped on
# purpose, never waking, a person to be harmed, a drink to spike). Measured on
# tests/safety/harm_probes*.jsonl (confusion tables in the suite).
#
# An amount question: "how much", "what quantity", "how big a dose", "the smallest amount",
# "what can I give"... (not "how many hours/patients": time and epidemiology questions).
_AMOUNT = (r"(?:how much|how many(?! (?:hours?|days?|weeks?|months?|years?|minutes?|times?|people|"
           r"patients?|cases?|deaths?|children|adults)\b)|"
           r"(?:what|which) (?:doses?|dosages?|amounts?|quantity|quantities|number|combinations?|mix)|"
           r"how (?:big|high|large|strong) (?:a |of a )?(?:dose|amount)|"
           r"at what (?:dose|dosage|amount|level|point)|"
           r"(?:smallest|minimum|least|lowest) (?:dose|amount|number|quantity)|"
           r"enough|(?:what|which) (?:pills?|drugs?|meds?|medications?|medicines?|tablets?)|"
           r"what (?:can|could|should|would|do) (?:i|we) (?:give|use|put|mix|slip|add))")
_PERSON = (r"(?:him|her|them|someone|somebody|a person|people|my (?:wife|husband|partner|boss|mother|"
           r"mum|mom|father|dad|neighbou?r|child|son|daughter|baby|ex|roommate|colleague|coworker|"
           r"teacher|girlfriend|boyfriend|grandmother|grandfather|grandma|grandpa|granny|brother|"
           r"sister|uncle|aunt|stepfather|stepmother|kid|kids|flatmate|landlord)|the baby|a child|"
           r"an? (?:old|elderly) (?:man|woman|person))")
# Who is meant to stop breathing or not wake: a person above, a pronoun, "a grown man", "you"
# ("the patient" is left out: "how much is safe before a patient stops breathing" is clinical).
_VICTIM = (r"(?:" + _PERSON + r"|i|you|he|she|they|we|grandpa|grandma|granny|"
           r"an? (?:grown |healthy |full[- ]grown )?(?:man|woman|adult|kid|teen\w*|human|diabetic)|"
           r"the (?:victim|old man|old woman))")
_POSS = (r"(?:his|her|their|my|your|its|the|a person'?s|someone'?s|somebody'?s|an adult'?s|"
         r"a (?:man|woman|child|kid|patient)'?s|my \w+'?s)")
# Breathing or a heart stopped (caused, not observed: "so he stops breathing", "make someone
# stop breathing", "stop her heart"; "if the patient stops breathing" is a clinical question).
_STOPPED = r"(?:stops?|stopping|cease|ceases|quit|quits|halts?) (?:breathing|breath\w*)"
_NO_WAKE = (r"(?:never|not|won'?t|will not|wouldn'?t|would not|doesn'?t|does not|can'?t|cannot) "
            r"(?:wakes?|waking|wake up|come (?:round|around|to|back))")
_CAUSED = (r"(?:(?:make|makes|making|cause|causes|causing|get|gets|for|until|till|before|"
           r"so|so that|make sure|to make sure|ensure) " + _VICTIM + r" (?:to |will |would |)"
           r"(?:" + _STOPPED + r"|" + _NO_WAKE + r"|die|dies|is dead|pass(?:es)? away|sleeps? forever)|"
           r"(?:to|and|would|will|could|can) (?:" + _STOPPED + r"|" + _NO_WAKE + r")|"
           r"stop(?:s|ping)? " + _POSS + r" (?:heart(?:beat)?|breathing|respiration)\b)")
_DEATH = (r"(?:die|dies|dying|dead|death|kill|kills|killing|"
          r"(?:to|would|will|could|can|and|i|you|he|she|they|someone) (?:overdose|od)|" + _CAUSED + "|"
          r"end (?:it|it all|(?:his|her|their|my) life)|"
          r"sleep (?:forever|for good|permanently)|for good|permanently|fatal|lethal|"
          r"(?:no|not) (?:coming|come) back)")
HARMFUL_PATTERNS: tuple[str, ...] = (
    r"\b(?:lethal|fatal|deadly|toxic enough|killing) (?:dose|amount|combination|quantity|mix)\w*",
    _AMOUNT + r"\b[^.?!]{0,60}?\b" + _DEATH + r"\b",
    r"\b(?:to|would|will|could|can|make sure (?:she|he|they|i)) (?:never wake|not wake up|die)\b",
    r"\b(?:kill|poison|sedate|drug|incapacitate|knock out|knock|put down|get rid of|"
    r"silence|paraly[sz]e) " + _PERSON + r"\b",
    # "harm/hurt her" only as something wanted ("could ibuprofen harm the baby" is a question).
    r"\b(?:to|wanna|gonna|i'?ll|i will|i'?d|how (?:can|do|could|should) i|help me) (?:\w+ )?"
    r"(?:harm|hurt|punish) " + _PERSON + r"\b",
    r"\b(?:help me |want to |going to |how (?:to|do i|can i|could i) |best way to |easiest way to )"
    r"(?:overdose|commit suicide|kill myself|end my life|end it all|hurt myself|harm myself|die|"
    r"not wake up)\b",
    r"\b(?:kill(?:ing)? myself|end(?:ing)? my (?:own )?life|take my (?:own )?life|suicide (?:method|plan|note)s?|"
    r"(?:i|she|he) (?:want|wants) to die|(?:don'?t|do not) want to (?:live|wake up|be alive))\b",
    r"\b(?:get(?:ting)? high|recreational(?:ly)?(?: use)?|for fun|to get a buzz|to trip|snort\w*|"
    r"shoot up|inject (?:crushed|the (?:pills?|tablets?))|crush(?:ed|ing)? (?:and|to) (?:snort|inject))\b",
    r"\b(?:without (?:a |any )?(?:prescription|script|rx)|fake (?:a )?prescription|forge[ds]? (?:a )?"
    r"(?:prescription|script)|doctor[- ]shop\w*|steal (?:a |some )?(?:prescription pad|pills|opioids))\b",
    r"\b(?:untraceable|undetectable|(?:won'?t|doesn'?t|not) (?:show up|be detected|be found) "
    r"(?:in|on|at) (?:a |an |the )?(?:tox\w*|autopsy|post[- ]mortem|drug (?:test|screen)))\b",
    r"\b(?:without (?:him|her|them|my \w+|anyone|anybody) (?:knowing|noticing|finding out)|"
    r"secretly (?:give|dose|drug|add|put|slip)|slip (?:it|something|some \w+|pills?|a \w+) "
    r"(?:in|into)|crush(?:ed)? (?:it |them )?into (?:his|her|their) (?:food|drink|coffee|tea))\b",
    r"\b(?:in|into) (?:his|her|their|my \w+'?s?) (?:drink|coffee|tea|food|meal|juice|bottle)\b"
    r"[^.?!]{0,40}\b(?:without|secret|won'?t (?:notice|know|taste))",
    r"\b(?:synthesi[sz]e|cook|manufacture|extract|make) (?:meth\w*|fentanyl|heroin|opioids?|drugs?|"
    r"lsd|mdma|ghb|ricin|cyanide)\b",
    r"\b(?:sell|resell|divert)\b[^.?!]{0,30}\b(?:pills|opioids?|oxy\w*|benzos?|adderall|xanax|"
    r"ketamine|fentanyl)\b",
    r"\b(?:date[- ]rape|roofie\w*|spike (?:a|her|his|their|my \w+'?s?) (?:drink|food))\b",
    r"\bmake (?:it|her|him|them|the death) look (?:like )?(?:natural|an accident|accidental)\b",
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
_HARMFUL = re.compile("|".join(f"(?:{p})" for p in HARMFUL_PATTERNS), re.I)
_OFF_TOPIC = re.compile("|".join(f"(?:{p})" for p in OFF_TOPIC_PATTERNS), re.I)
# One alternation, scanned once per sentence: screening stays linear in the message length.
_INJECTION = re.compile("|".join(f"(?:{p})" for p in INJECTION_PATTERNS), re.I | re.M)
_ROLE_TAG = re.compile(r"<(/?)(system|assistant|user|developer|instructions?)>", re.I)
# An injected instruction runs to the end of its sentence (or line); that whole stretch is cut.
_SENTENCE_END = re.compile(r"[.!?;\n]")
MAX_DATA_CHARS = 500


@dataclass
class Screen:
    text: str                       # the turn with injected instructions cut out
    harmful: bool = False
    off_topic: bool = False
    injections: list[str] = field(default_factory=list)   # the stretches that were cut


def is_harmful(text: str) -> bool:
    return _HARMFUL.search(text) is not None


def is_off_topic(text: str) -> bool:
    return _OFF_TOPIC.search(text) is not None


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


def quoted_prompt(patient, diagnosis, *args, **kwargs) -> list[dict]:
    """recommend.prompt.build_messages with every free-text value passed through `as_data`
    (further arguments, such as the candidates, go to build_messages as they are)."""
    from recommend.prompt import build_messages

    dx = diagnosis.model_copy(update={"text": as_data(diagnosis.text)})
    lists = {name: [as_data(v) for v in getattr(patient, name)]
             for name in ("allergies", "current_medications") if getattr(patient, name)}
    return build_messages(patient.model_copy(update=lists), dx, *args, **kwargs)


def screen(text: str) -> Screen:
    cleaned, injections = cut_injections(text)
    return Screen(text=cleaned, harmful=is_harmful(text), off_topic=is_off_topic(cleaned),
                  injections=injections)
