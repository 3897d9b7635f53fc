"""Context per concept, the way clinical NLP reads it (ConText: Harkema et al., J Biomed Inform
2009;42:839): a clause that names a condition is read with its modifiers before it can become
the diagnosis.

    negated       "no fever", "denies chest pain", "negative for strep"   -> a note
    historical    "prior MI", "h/o DVT", "PMH: HTN", "known asthmatic",    -> a comorbidity
                  "s/p CABG", "background of T2DM"
    family        "family history of colon cancer", "mother has ..."      -> a note
    hypothetical  "rule out pneumonia", "possible PHN later", "risk of"   -> a note
    focus         "now with", "new", "presents with", "here for", "today" -> the question

Pre-coordinated terms are not negations: "non-purulent cellulitis", "non-insulin dependent
diabetes", "non-ST elevation MI" name one condition. Cue lists live in
assistant/data/extract_context.json so a clinician can read and extend them.

Chart notes are read by their section headers: "Assessment:", "A/P:", "Impression:", "Reason for
visit:" state the diagnosis; "PMH:", "Problem list:", "Background:" list comorbidities; "HPI:",
"S:", "O:" are narrative (their facts are read, their clauses are never the diagnosis when an
assessment is given).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _cues() -> dict:
    path = resources.files("assistant").joinpath("data/extract_context.json")
    return json.loads(path.read_text(encoding="utf-8"))


def context_cues() -> dict:
    """The cue lists of assistant/data/extract_context.json."""
    return _cues()


def _alt(name: str) -> str:
    return "|".join(_cues()[name])


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern]:
    return {
        "negated": re.compile(rf"^(?:{_alt('negation_pre')})\b", re.I),
        "negated_post": re.compile(rf"\b(?:{_alt('negation_post')})\s*$", re.I),
        "historical": re.compile(rf"^(?:{_alt('history_pre')})(?:\b|(?<=[/:-]))", re.I),
        "historical_post": re.compile(rf"\b(?:{_alt('history_post')})\s*$", re.I),
        "family": re.compile(rf"^(?:{_alt('family_pre')})\b", re.I),
        "hypothetical": re.compile(rf"^(?:{_alt('hypothetical_pre')})\b", re.I),
        "hypothetical_post": re.compile(rf"\b(?:{_alt('hypothetical_post')})\s*$", re.I),
        "focus": re.compile(rf"^(?:{_alt('focus_pre')})(?:\b|(?<=[/:-]))", re.I),
        "precoordinated": re.compile(rf"^(?:{_alt('precoordinated_terms')})", re.I),
        "not_a_condition": re.compile(rf"^(?:{_alt('not_a_condition')})\s*$", re.I),
    }


# "hyperlipidemia on atorvastatin 40 mg, LDL above goal": the treatment is not at its target, so
# the condition is the question (to intensify or add), not background.
NOT_AT_GOAL = re.compile(
    r"(?:^|[\s,;(])(?:(?:ldl|ldl-c|cholesterol|lipids|bp|blood pressure|a1c|hba1c|glucose|sugars?|"
    r"inr|tsh|symptoms?|pain|control|it)\s+(?:is\s+|are\s+)?(?:still\s+)?)?(?:(?:above|not at|not to|"
    r"off|over|short of)\s+(?:goal|target)|(?:un|not |poorly |inadequately |sub-?optimally )"
    r"controlled|not (?:at|to) (?:goal|target)|high despite|uncontrolled)", re.I)

@dataclass(frozen=True)
class ClauseContext:
    """How a clause names its condition; `term` is the condition without its cue words."""

    term: str
    negated: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    focus: bool = False

    @property
    def current(self) -> bool:
        """Could be the question: not negated, not past, not someone else's, not hypothetical."""
        return not (self.negated or self.historical or self.family or self.hypothetical)


def read_clause(raw: str) -> ClauseContext:
    """The context of one clause (a piece between commas, semicolons or sentence ends)."""
    p = _patterns()
    s = " ".join(raw.split()).strip(" .:-,")
    flags = dict(negated=False, historical=False, family=False, hypothetical=False, focus=False)
    for _ in range(4):   # cues stack: "now with known ..." / "prior h/o ..."
        if p["precoordinated"].match(s):
            break
        for name in ("family", "negated", "hypothetical", "historical", "focus"):
            m = p[name].match(s)
            if m:
                flags[name] = True
                s = s[m.end():].strip(" .:-,")
                break
        else:
            break
    for name in ("negated", "historical", "hypothetical"):
        m = p[f"{name}_post"].search(s)
        if m and m.start() > 0:
            flags[name] = True
            s = s[:m.start()].strip(" .:-,")
    s = re.sub(r"\s*\((?:in remission|resolved|remote|old|\d{4})\)\s*", " ", s, flags=re.I).strip()
    s = re.sub(r"\s+(?:in\s+)?(?:19|20)\d{2}$", "", s).strip()
    return ClauseContext(term=s, **flags)


_LEADING_FILLER = re.compile(r"^(?:(?:and|also|plus|but|with|w/|has|had|have|who|is|was|a|an|the|"
                             r"patient|pt|she|he|they)\s+)+", re.I)


def without_lead_words(raw: str) -> str:
    """The clause without leading conjunctions and pronouns ("and prior MI" -> "prior MI")."""
    return _LEADING_FILLER.sub("", " ".join(raw.split()))


def read_clause_loose(raw: str) -> ClauseContext:
    """read_clause after leading conjunctions and pronouns ("and prior MI", "he has known CAD")."""
    return read_clause(without_lead_words(raw))


def comorbidity_text(term: str) -> str:
    """A comorbidity as recorded: shorthand spelled out ("CKD 3" -> "CKD (chronic kidney
    disease) 3") so the clinician and the checks read the same thing."""
    from assistant.shorthand import expand_abbreviations
    return expand_abbreviations(" ".join(term.split()))


def is_condition_word(term: str) -> bool:
    """False for clauses that are about the patient but name no condition ("ex-smoker")."""
    return bool(term) and not _patterns()["not_a_condition"].match(term)


# -- chart sections --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _section_rules() -> list[tuple[re.Pattern, str]]:
    c = _cues()
    head = r"(?:^|(?<=[\n.;]))[ \t]*"
    return [
        # SOAP letters with a bracket, capitals only ("S) ..., O) ..., A) acute bronchitis"); a
        # list's "a) b)" is no section.
        (re.compile(r"(?:^|(?<=[\n.;,]))[ \t]*A\)[ \t]*", re.M), "\nDiagnosis: "),
        (re.compile(r"(?:^|(?<=[\n.;,]))[ \t]*[SOP]\)[ \t]*", re.M), "\n"),
        (re.compile(rf"{head}(?:{'|'.join(c['section_diagnosis'])})[ \t]*[:\-][ \t]*", re.I | re.M),
         "\nDiagnosis: "),
        (re.compile(rf"{head}(?:{'|'.join(c['section_history'])})[ \t]*[:\-][ \t]*", re.I | re.M),
         "\nComorbidities: "),
        (re.compile(rf"{head}(?:{'|'.join(c['section_allergies'])})[ \t]*[:\-][ \t]*", re.I | re.M),
         "\nAllergies: "),
        (re.compile(rf"{head}(?:{'|'.join(c['section_medications'])})[ \t]*[:\-][ \t]*",
                    re.I | re.M), "\nMeds: "),
        (re.compile(rf"{head}(?:{'|'.join(c['section_narrative'])})[ \t]*[:\-][ \t]*", re.I | re.M),
         "\n"),
    ]


# A wish to stop smoking is the diagnosis it names, not a wish to act ("wants to quit smoking").
_QUIT = (r"(?:wants?|wanting|would like|keen|trying|tries|ready|hoping|hopes|plans?|planning|"
         r"motivated|needs?|asking for help|seeking help|help|support)\s+(?:to\s+|with\s+)?"
         r"(?:quit|stop|give up|giving up|quitting|stopping|cut out)\s+")
# "ED" is a place after a preposition or before a visit word ("seen in ED for chest pain").
_ED_PLACE = re.compile(r"(?:(?<=\s)|^)(?:(?P<pre>(?:in|to|at|from|via|into|through|attended|attends|"
                       r"attending|left|leaving)\s+(?:the\s+)?)(?:ED|A&E|ER)(?![\w&/])|"
                       r"(?:ED|A&E|ER)(?=\s+(?:visit|attendance|presentation|admission|doctor|team|"
                       r"triage|stay|review)\b))")
# A pasted list, one item a line ("PMH:\n- HTN\n- T2DM", "1. HTN\n2. T2DM"): the items join one
# list, as if written "PMH: HTN, T2DM", so the label reads them all.
_NUMBERED = re.compile(r"(?:\n[ \t]*|(?<=:)|(?<=\s))(?P<n>\d{1,2})[.)]\s+(?=[A-Za-z])")
_BULLET = re.compile(r"(?:\n|\A|(?<=:))[ \t]*[-\u2022*\u00b7][ \t]+(?=\w)")
# Chart shorthand: "w/" and "w/o"; "M/45", "45/F" (sex and age in either order); an arrow
# ("dysuria -> cystitis", "NKDA -> question: ...") separates clauses.
_SHORTHAND: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\s*(?:-+>|=+>|→|⇒)\s*"), ", "),
    (re.compile(r"(?<![\w/])w/o(?![\w/])", re.I), "without"),
    (re.compile(r"(?<![\w/])w/(?=\s|[A-Za-z])", re.I), "with "),
    (re.compile(r"(?<![\w/])([MF])\s*/\s*(\d{1,3})(?![\w/.])"), r"\2 \1"),
    (re.compile(r"(?<![\w/.])(\d{1,3})\s*/\s*([MF])(?![\w/])"), r"\1 \2"),
    (re.compile(rf"\b{_QUIT}(?:smoking|cigarettes|cigs|tobacco)\b", re.I), "smoking cessation"),
    (re.compile(rf"\b{_QUIT}(?:vaping|e-?cigarettes|vapes?)\b", re.I), "vaping cessation"),
    (_ED_PLACE, lambda m: (m.group("pre") or "") + "emergency department"),
    # Where the patient was seen is not the diagnosis: "seen in ED for chest pain, NSTEMI".
    (re.compile(r"\b(?:(?:was|were|is)\s+)?(?:seen|presented|presents|presenting|attended|attends|"
                r"reviewed|assessed|brought in|came|went)\s+(?:in|to|at|into)\s+(?:the\s+)?"
                r"(?:emergency department|hospital)\s+(?:for|with)\s+", re.I), ", "),
    # "wants treatment for hyperlipidemia": what treatment is wanted for is the question, whatever
    # else the problem list names ("now" marks it as "now with" does).
    (re.compile(r"\b((?:wants?|would like|requesting|requests?|asking for|asks for|seeking)\s+"
                r"(?:treatment|therapy|management|medication|meds|a prescription|something))\s+"
                r"(?:for|of)\s+(?=[A-Za-z])", re.I), r"\1, now "),
    # "H. pylori", "C. diff", "E. coli": one name, not a sentence end.
    (re.compile(r"(?<![\w.])([A-Z])\.\s?(?=(?:pylori|diff|difficile|coli|aureus|pneumoniae|"
                r"pyogenes|trachomatis|vaginalis|albicans)\b)", re.I), r"\1 "),
]


def _numbered_items_joined(text: str) -> str:
    """"Problems: 1. HTN 2. gout" -> "Problems: , HTN , gout". A number is an item's only where
    a list counts up from 1: in "CKD stage 4. Dx: gout" the 4 is the stage."""
    expected = 1

    def join(m: re.Match) -> str:
        nonlocal expected
        n = int(m.group("n"))
        if n not in (1, expected):
            return m.group(0)
        expected = n + 1
        return ", "
    return _NUMBERED.sub(join, text)


def normalise_sections(text: str) -> str:
    """Chart headers -> the labels the reader knows; a numbered problem list -> a comma list;
    chart shorthand ("w/", "M/45") spelled out."""
    out = text
    for pattern, label in _section_rules():
        out = pattern.sub(label, out)
    for pattern, repl in _SHORTHAND:
        out = pattern.sub(repl, out)
    out = _BULLET.sub(", ", out)
    out = _numbered_items_joined(out)
    out = re.sub(r":\s*,\s*", ": ", out)
    return out


# -- "on X for Y" ----------------------------------------------------------------------------------
# How long: "3 days", "2 yrs", "a week", "x 3/7" (UK shorthand: /7 days, /52 weeks, /12 months).
DURATION_COUNT = (r"(?:\d+(?:[.-]\d+)?|an?|one|two|three|four|five|six|seven|ten|few|several|"
                  r"couple(?: of)?)")
DURATION_UNIT = (r"(?:/7|/52|/12|d|days?|wks?|weeks?|w|mo|mos|months?|m|y|yrs?|years?|h|hrs?|hours?)"
                 r"(?![\w/])")
_DURATION = (rf"(?:(?:about|over|the\s+(?:past|last)|the)\s+)?{DURATION_COUNT}\s*{DURATION_UNIT}"
             r"(?:\s+(?:now|already))?")
_DURATION_ONLY = re.compile(_DURATION, re.I)
_DURATION_THEN_FOR = re.compile(rf"^{_DURATION}\s+(?:for|to treat|because of|due to)\s+", re.I)


def _is_duration(text: str) -> bool:
    """"2 yrs", "the past 3 months": how long, never a condition ("on sertraline for 2 yrs")."""
    return bool(_DURATION_ONLY.fullmatch(text.strip()))


# "on propranolol for it", "for this", "for the same": the drug is for the condition already
# named (the diagnosis), no new one.
_PRONOUN = re.compile(r"(?:it|this|that|these|those|them|the same|same|this condition|"
                      r"the above|above|this problem|the condition)", re.I)


def refers_back(text: str) -> bool:
    """"it", "this", "the same": a condition named before, not a new one."""
    return bool(_PRONOUN.fullmatch(text.strip(" .,")))


def treated_condition(text: str) -> str:
    """What follows "on X for": the condition, without how long it has been taken ("the past
    3 months for depression" -> "depression"); "" when it only says how long ("2 yrs") or
    refers back to a condition already named ("for it")."""
    text = _DURATION_THEN_FOR.sub("", text.strip())
    return "" if _is_duration(text) or refers_back(text) or _PURPOSE.match(text) else text


# What a drug is taken for that is no condition: "for prophylaxis", "for secondary prevention",
# "for GI protection", "for sleep" (the condition it prevents or eases is named elsewhere, or not).
_PURPOSE = re.compile(r"^(?:(?:primary|secondary|stroke|vte|dvt|gi|gastric|stomach|bone|"
                      r"cardiovascular|cv|migraine|seizure|fracture)\s+)?(?:prophylaxis|"
                      r"prevention|protection|cover)$|^(?:sleep|pain relief|prn use)$", re.I)


_INDICATION = re.compile(r"\s+(for|due to|because of|to treat|after|post|following|since)\s+(.+)$",
                         re.I)


def split_indication(item: str) -> tuple[str, str | None]:
    """"isosorbide mononitrate for angina" -> ("isosorbide mononitrate", "angina"); "clopidogrel
    after stent" -> ("clopidogrel", None): a time, not a condition the drug treats."""
    m = _INDICATION.search(item)
    if not m or m.start() == 0:
        return item, None
    cond = treated_condition(m.group(2).strip(" .,"))
    if m.group(1).lower() in ("after", "post", "following", "since"):
        cond = ""
    return item[:m.start()].strip(), cond or None
