"""Age, sex, pregnancy and weight, and context that is never the diagnosis (names, lab values,
person words). Values outside what a patient can have are not recorded: a note says what was
read, the field stays open, and the assistant asks for it."""

from __future__ import annotations

import re

from assistant.extract.text import Findings, Text
from assistant.extract.vocabulary import alternation, words

AGE_RANGE = (0.0, 125.0)            # years
WEIGHT_KG_RANGE = (0.2, 500.0)      # exclusive lower bound, inclusive upper (as rxassist.cases)
LB_TO_KG = 0.45359237

DECADE = -1.0                       # scale of a decade pattern: "30s" -> 35, approximate
BY_UNIT = None                      # scale of a pattern with a unit group: from the unit
# A number and its unit where an age stands: before the patient ("9 mo girl", "18 mo boy",
# "6 wk infant", "3y M") or opening the turn ("3y, fever"). Elsewhere it is how long
# ("insomnia x 3 mo"); a bare "m" stays the sex letter ("3 M").
_UNIT = r"(?P<u>years?|yrs?|y|months?|mos?|weeks?|wks?|days?|d)"
_NOT_DURATION = r"(?<![x×/\d.])(?<![x×]\s)(?<!for\s)(?<!over\s)"
_PATIENT_NEXT = (r"(?=\s*(?:[fm](?![\w/])|(?:male|female|girl|boy|infant|baby|child|toddler|"
                 r"neonate|newborn)\b))")

AGE_PATTERNS: list[tuple[re.Pattern, float | None]] = [
    (re.compile(r"\b(\d{1,3}(?:\.\d+)?)\s*-?\s*(?:years?|yrs?|yr|y)\s*-?\s*(?:old|o\b\.?)", re.I), 1.0),
    (re.compile(r"\b(\d{1,3})\s*-?\s*(?:yo|y/o|y\.o\.?|yoa|yrs? old)(?![a-z])", re.I), 1.0),
    (re.compile(r"\baged?\s*(?:of\s*)?[:=]?\s*(\d{1,3}(?:\.\d+)?)\b(?!\s*(?:kg|lb|mg|weeks?|"
                r"days?|months?))", re.I), 1.0),
    (re.compile(r"\b(\d{1,2})\s*-?\s*(?:months?|mos?|mo)\s*-?\s*old\b|\b(\d{1,2})\s*m/o\b", re.I),
     1 / 12),
    (re.compile(r"\b(\d{1,2})\s*-?\s*(?:weeks?|wks?)\s*-?\s*old\b", re.I), 1 / 52),
    (re.compile(r"\b(\d{1,2})\s*-?\s*days?\s*-?\s*old\b", re.I), 1 / 365),
    # UK shorthand: "6/12 old girl" (months), "3/52 old" (weeks), "5/7 old" (days); only with
    # "old" or the child after it, so "cough x 6/12" stays a duration.
    *[(re.compile(rf"\b(\d{{1,2}})/{den}\s*-?\s*(?:old\b|o\b|{_PATIENT_NEXT})", re.I), scale)
      for den, scale in (("12", 1 / 12), ("52", 1 / 52), ("7", 1 / 365))],
    # "she is 25", "patient is 60"
    (re.compile(r"\b(?:she|he|patient|pt)(?:\s+is|'s)\s+(?:a\s+)?(\d{1,3})\b(?!\s*(?:kg|kgs|lbs?|weeks?|"
                r"wks?|days?|months?|%|mg|/|\.\d))", re.I), 1.0),
    (re.compile(rf"{_NOT_DURATION}\b(?P<n>\d{{1,3}}(?:\.\d+)?)\s*-?\s*{_UNIT}\s*-?{_PATIENT_NEXT}",
                re.I), BY_UNIT),
    (re.compile(r"^\s*(?:(?:pt|patient)\s+)?(?P<n>\d{1,3}(?:\.\d+)?)\s*-?\s*"
                r"(?P<u>y|yrs?|years?|mos?|months?)(?=\s*[,.;\n]|\s*$)", re.I), BY_UNIT),
    # "in her 30s", "late 60s": the middle of the decade, noted as approximate.
    (re.compile(r"\b(?:in (?:her|his|their) )?(?:early |mid |late )?(\d)0'?s\b", re.I), DECADE),
    # "34F", "34 M", "34yo F" style shorthand; the sex letter is read by _AGE_SEX below.
    (re.compile(r"(?<![\d.])\b(\d{1,3})\s?(?:f|m)\b(?!\s*/)", re.I), 1.0),
    # "F 29", "M 45": the sex letter first, at the start of a clause (read by _SEX_AGE below).
    (re.compile(r"(?:^|(?<=[,;\n]))\s*[fm]\s?(\d{1,3})\b(?!\s*(?:kg|kgs|lbs?|mg|%|/|\.\d|"
                r"weeks?|wks?|days?|months?))", re.I), 1.0),
    # "34 years, female" only at the start of a clause: "for 10 years" is a duration.
    (re.compile(r"(?:^|[,;\n]\s*)(?:patient\s+|pt\s+)?(\d{1,3})\s*(?:years?|yrs?)\b(?!\s*(?:ago|of|"
                r"history|duration))", re.I), 1.0),
]
_AGE_SEX = re.compile(r"(?<![\d.])\b\d{1,3}\s?(?:yo|y/o|y\.o\.?|years? old|-year-old|y|yrs?|mos?|"
                      r"months?|wks?|weeks?|d)?\s?(?P<s>f|m)\b(?!\s*/)", re.I)

_SEX_AGE = re.compile(r"\s*(?P<s>[fm])\s?\d", re.I)

_SEX_RES = [
    (re.compile(rf"\b(?:{words('female_strong')})\b\.?", re.I), "female", 1),
    (re.compile(rf"\b(?:{words('male_strong')})\b\.?", re.I), "male", 1),
    (re.compile(rf"\b(?:{words('female_weak')})\b", re.I), "female", 2),
    (re.compile(rf"\b(?:{words('male_weak')})\b", re.I), "male", 2),
]

_PREG_FALSE = re.compile(r"\b(?:not|non|isn'?t|is not|never been|no longer)\s*-?\s*pregnant\b|"
                         r"\bnegative (?:urine |serum )?(?:pregnancy test|hcg|b-?hcg|upt)\b|"
                         r"\b(?:(?:urine |serum )?pregnancy test|hcg|b-?hcg|upt)\s*(?:is |was |:)?\s*"
                         r"(?:negative|neg|-ve)(?![\w-])", re.I)
# "28/40", "16+3/40": weeks of gestation in UK shorthand (4 to 42 weeks; never a blood pressure
# or a Snellen acuity, "BP 90/40", "VA 20/40").
_GESTATION = (r"(?<![\d/.+])(?<!va )(?<!vision )(?<!acuity )(?<!bp )(?<!bp: )"
              r"(?:[4-9]|[1-3]\d|4[0-2])(?:\+[0-6])?/40(?![\d/])")
_PREG_TRUE = re.compile(r"\b(?:at )?\d{1,2}\s*(?:weeks?|wks?|w)\s*(?:pregnant|gestation|ga|"
                        r"of pregnancy|of gestation)\b|" + _GESTATION + r"(?:\s*pregnant\b)?|"
                        r"\b(?:currently |is )?pregnant(?: at \d{1,2} weeks)?\b|"
                        r"\b(?:gravid|expecting a baby|g\d\s*p\d|"
                        r"(?:first|second|third|1st|2nd|3rd) trimester)\b", re.I)
# "postpartum", "6 weeks postpartum", "postmenopausal", "s/p hysterectomy": not pregnant; in
# "postpartum depression" or "postmenopausal bleeding" the word belongs to the diagnosis and
# stays there.
_NOT_PREGNANT_STATE = re.compile(r"\b(?:(?:\d{1,2}\s*(?:days?|d|weeks?|wks?|w|months?|mo)\s*)?"
                                 r"post-?(?:partum|natal)|post-?menopausal|menopausal|hysterectomy)"
                                 r"\b(?P<alone>(?=\s*(?:[,;.\n()]|$|with\b|and\b|w/)))?", re.I)
# Planning a pregnancy is not being pregnant ("wants to get pregnant", "TTC", "planning
# pregnancy"): a note (it matters for teratogens, and names no condition); the pregnancy
# question stays open.
_PREG_PLANNED = re.compile(r"\b(?:(?:wants?|wanting|would like|trying|tries|hoping|hopes|plans?|"
                           r"planning|wishes|wishing|keen|considering|thinking about)\s+(?:to\s+)?"
                           r"(?:get\s+|become\s+|getting\s+|becoming\s+)?(?:pregnant|conceive|"
                           r"conceiving|a pregnancy|pregnancy|another baby|a baby|to start a family)|"
                           r"ttc|trying for a baby|pre-?conception(?:al)?(?: counsell?ing)?)\b", re.I)
_BREASTFEEDING = re.compile(r"\b(?:breast-?feeding|lactating|nursing (?:mother|her baby))\b", re.I)

_WEIGHT_KG = re.compile(r"\b(\d{1,3}(?:\.\d+)?)\s*(?:kg|kgs|kilograms?|kilos?)\b", re.I)
_WEIGHT_LB = re.compile(r"\b(\d{1,3}(?:\.\d+)?)\s*(?:lbs?|pounds)\b", re.I)
_WEIGHT_WORD = re.compile(r"\b(?:weighs|weighing|weight|wt)\b", re.I)

# "Mrs Smith", "Dr. Jones": a title and a name are not a diagnosis (and should not be sent).
_TITLE_NAME_RE = re.compile(r"\b(?P<t>mr|mrs|ms|miss|mister)\.?\s+[A-Z][a-z'-]+", re.I)
# Lab values and vital signs: kept as notes, never part of the diagnosis.
# Never an ICD-10 code: "(ICD-10-CM K92.2)" is not a potassium of 92.2.
_LAB_RE = re.compile(rf"(?<!icd-10-cm )(?<!icd-10 )(?<!icd10 )\b(?:{alternation('lab_names')})"
                     r"\s*(?:of|is|was|:|=)?\s*[<>]?\s*\d+(?:[.,/]\d+)?(?:\s*-\s*\d+(?:\.\d+)?)?"
                     r"\s*(?:%|mmhg|bpm|c|f|mg/dl|mmol/l|ml/min)?", re.I)
# A clinical score or grade with its value ("CHA2DS2-VASc 5", "CURB-65 of 2", "NYHA class III",
# "Child-Pugh B", "PHQ-9 18/27"): a detail of the condition it grades, never a condition.
_ROMAN = r"(?:iv|iii|ii|i)\b"
_SCORE_RE = re.compile(
    rf"(?<![\w-])(?:{alternation('clinical_scores_regex')})(?:\s+(?:score|class|grade|stage))?"
    r"\s*(?:of|is|was|=|:|-)?\s*(?:[<>≥≤]\s*)?"
    rf"(?:\d+(?:\.\d+)?(?![\d.])(?:\s*[-/+]\s*\d+)?(?:\s*=\s*\d+)?\s*%?|(?:class\s+)?{_ROMAN}"
    rf"(?:\s*[-/]\s*{_ROMAN})?|[abc]\b|(?:low|intermediate|moderate|high)(?:\s+risk)?\b)"
    # never an age ("Grace 45F", "Wells 70 yo")
    r"(?!\s*(?:[mf]\b|yo\b|y/o|y\.o|years?\b|yrs?\b|y\b|-year|mo\b|months?\b))", re.I)
# Words about who the patient is, not what they have.
_PERSON_RE = re.compile(rf"\b(?:{alternation('person_words_regex')})\b", re.I)


def _unit_scale(unit: str | None) -> float:
    """Years per unit: "mo" 1/12, "wk" 1/52, "d" 1/365; none or "y" 1."""
    return {"m": 1 / 12, "w": 1 / 52, "d": 1 / 365}.get((unit or "y")[0].lower(), 1.0)


def _age_in_years(m: re.Match, scale: float | None) -> float | None:
    """The age an AGE_PATTERNS match states, in years."""
    num = next((g for g in m.groups() if g), None)
    if num is None:
        return None
    if scale == DECADE:
        return float(num) * 10 + 5
    if scale is BY_UNIT:
        scale = _unit_scale(m.group("u"))
    return round(float(num) * scale, 3)


# -- parsers for labelled values ("Age: 60") -------------------------------------------------------
def parse_age(value: str) -> float | None:
    v = value.strip().lower()
    for pattern, scale in AGE_PATTERNS:
        m = pattern.search(v)
        if m:
            return _age_in_years(m, scale)
    m = re.match(r"^\s*(\d{1,3}(?:\.\d+)?)\s*(years?|yrs?|y|months?|mos?|weeks?|days?)?\b", v)
    if not m:
        return None
    return round(float(m.group(1)) * _unit_scale(m.group(2)), 3)


def parse_sex(value: str) -> str | None:
    v = value.strip().lower()
    if re.match(r"^(?:f|female|woman|w|girl)\b", v):
        return "female"
    if re.match(r"^(?:m|male|man|boy)\b", v):
        return "male"
    return None


def parse_pregnant(value: str) -> bool | None:
    v = value.strip().lower()
    if re.match(r"^(?:no|n|false|not|negative|non)\b", v):
        return False
    if re.match(r"^(?:yes|y|true|positive|pregnant|\d{1,2}\s*(?:weeks?|wks?|w)\b)", v):
        return True
    return None


def _kg(match: re.Match, pounds: bool) -> float:
    return round(float(match.group(1)) * LB_TO_KG, 1) if pounds else float(match.group(1))


def parse_weight(value: str) -> float | None:
    m = _WEIGHT_LB.search(value)
    if m:
        return _kg(m, pounds=True)
    m = re.match(r"^\s*(\d{1,3}(?:\.\d+)?)\s*(?:kg|kgs|kilograms?|kilos?)?\b", value, re.I)
    return _kg(m, pounds=False) if m else None


PARSERS = {"age": parse_age, "sex": parse_sex, "pregnant": parse_pregnant, "weight_kg": parse_weight}


def plausible(name: str, value) -> bool:
    """Whether a patient can have this value; outside, the value is noted and the field asked."""
    if name == "age":
        return AGE_RANGE[0] <= value <= AGE_RANGE[1]
    if name == "weight_kg":
        return WEIGHT_KG_RANGE[0] < value <= WEIGHT_KG_RANGE[1]
    return True


def record(f: Findings, name: str, value, said: str, *, replace: bool = False) -> None:
    """Record a demographic value, or a note when it cannot be a patient's."""
    if not plausible(name, value):
        f.note("out_of_range", field=name, said=said.strip())
        f.rejected[name] = said.strip()
        return
    if replace:
        f.values[name] = value
    else:
        f.values.setdefault(name, value)


# -- free-text readers -----------------------------------------------------------------------------
def read_pregnancy(t: Text, f: Findings) -> None:
    for m in t.matches(_BREASTFEEDING):
        f.note("breastfeeding")
        t.take(m.start(), m.end())
    for m in t.matches(_NOT_PREGNANT_STATE):
        if "pregnant" not in f.values and "pregnant" not in f.unknown:
            f.values["pregnant"] = False
        if m.group("alone") is not None:
            f.note("not_pregnant_state", said=m.group(0).strip())
            t.take(m.start(), m.end())
    for m in t.matches(_PREG_PLANNED):
        f.note("pregnancy_planned", said=" ".join(m.group(0).split()))
        t.take(m.start(), m.end())
    for pattern, value in ((_PREG_FALSE, False), (_PREG_TRUE, True)):
        for m in t.matches(pattern):
            if "pregnant" not in f.values and "pregnant" not in f.unknown:
                f.values["pregnant"] = value
            t.take(m.start(), m.end())


def read_age(t: Text, f: Findings) -> None:
    for pattern, scale in AGE_PATTERNS:
        for m in t.matches(pattern):
            age = _age_in_years(m, scale)
            if age is None or age > AGE_RANGE[1]:
                continue
            if scale == DECADE and "age" not in f.values:
                f.note("age_approximate", said=m.group(0).strip())
            f.values.setdefault("age", age)
            f.unknown.discard("age")
            sex = _AGE_SEX.match(t.s, m.start()) or _SEX_AGE.match(t.s, m.start())
            if sex and "sex" not in f.values:
                f.values["sex"] = "female" if sex.group("s").lower() == "f" else "male"
                t.take(m.start(), sex.end())
            # "she is 25": the pronoun stays for read_sex.
            start = m.start(1) if re.match(r"(?i)she|he\b", m.group(0)) else m.start()
            t.take(start, m.end())


def read_weight(t: Text, f: Findings) -> None:
    for pattern, pounds in ((_WEIGHT_KG, False), (_WEIGHT_LB, True)):
        for m in t.matches(pattern):
            record(f, "weight_kg", _kg(m, pounds), m.group(0))
            t.take(m.start(), m.end())
    for m in t.matches(_WEIGHT_WORD):
        t.take(m.start(), m.end())


def read_sex(t: Text, f: Findings, dx_segments: list[tuple[int, int]]) -> None:
    best: tuple[int, int, str] | None = None   # (rank, position, sex)
    for pattern, sex, rank in _SEX_RES:
        for m in t.matches(pattern):
            # ICD titles hold sex words ("Male erectile dysfunction"); a diagnosis is not a sex.
            if any(s <= m.start() < e for s, e in dx_segments):
                continue
            if rank == 1:
                t.take(m.start(), m.end())
            candidate = (rank, m.start(), sex)
            if best is None or candidate < best:
                best = candidate
    if best is not None and "sex" not in f.values and "sex" not in f.unknown:
        f.values["sex"] = best[2]


def read_scores(t: Text, f: Findings) -> None:
    """Clinical scores with their values: notes. Read before the age, so the 65 of "CURB-65 2"
    is never an age."""
    for m in t.matches(_SCORE_RE):
        f.note("score", said=re.sub(r"\s+", " ", m.group(0).strip()))
        t.take(m.start(), m.end())


def read_context(t: Text, f: Findings) -> None:
    """Names, lab values and person words: never part of the diagnosis."""
    for m in t.matches(_TITLE_NAME_RE):
        if "sex" not in f.values:
            f.values["sex"] = "male" if m.group("t").lower() in ("mr", "mister") else "female"
        t.take(m.start(), m.end())
    for m in t.matches(_LAB_RE):
        f.note("lab_value", said=re.sub(r"\s+", " ", m.group(0).strip()))
        t.take(m.start(), m.end())
    for m in t.matches(_PERSON_RE):
        t.take(m.start(), m.end())
