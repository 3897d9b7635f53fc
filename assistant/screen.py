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
sentence, so screening is linear in the message length. The injection patterns and the quoting
of free text as one-line data values live with the prompt (recommend.quoting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Injection cutting and the data quoting of free text belong to the prompt; screening reuses them.
from recommend.quoting import (INJECTION_PATTERNS, MAX_DATA_CHARS, as_data,  # noqa: F401
                               cut_injections, cut_role_tags)

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

_HARMFUL = re.compile("|".join(f"(?:{p})" for p in HARMFUL_PATTERNS), re.I)
_OFF_TOPIC = re.compile("|".join(f"(?:{p})" for p in OFF_TOPIC_PATTERNS), re.I)


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


def screen(text: str) -> Screen:
    cleaned, injections = cut_injections(text)
    return Screen(text=cleaned, harmful=is_harmful(text), off_topic=is_off_topic(cleaned),
                  injections=injections)
