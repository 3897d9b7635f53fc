"""Deterministic extraction of patient fields and the diagnosis from one user turn.

The served base model (135M parameters) cannot extract fields reliably, so this is regex plus
the guardrails drug lexicon, biased toward safety: a drug mentioned outside an allergy clause is
taken as a current medication (more duplicate checks, never fewer), and everything understood is
echoed back so the clinician can correct it.

Order of work on a turn (each step consumes the characters it explains):

1. labels      "Age: 60 years", "Allergies: none", "Diagnosis: ..."  (also the prompt's own format)
2. unknowns    "allergies unknown", "age not recorded", "pregnancy status unclear"
3. pregnancy / age / weight  "20 weeks pregnant", "34 yo", "34F", "70 kg"
4. allergies   "allergic to sulfa, penicillin", "sulfa allergy", "NKDA"
5. medications "on levothyroxine", "takes metformin 500 mg bid", "no regular meds"; then sex words
6. requests    "recommend X", "what should I give?" (never a diagnosis, never a medication)
7. other drug mentions (lexicon)   -> current medications
8. what remains, split into clauses, minus fillers -> the diagnosis (see DIAGNOSIS_CUES)

A field stated as unknown is recorded in `unknown`, which counts as answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

FIELDS = ("age", "sex", "pregnant", "weight_kg", "allergies", "current_medications", "diagnosis")


class DrugMention(Protocol):
    input: str
    status: str
    name: str | None


DrugFinder = Callable[[str], "list[DrugMention]"]

_UNKNOWN_WORDS = (r"(?:unknown|not known|unk|not recorded|not documented|undocumented|unrecorded|"
                  r"unavailable|not available|unclear|uncertain|unsure|not sure|n/?a|"
                  r"don'?t know|do not know|no idea|no info(?:rmation)?|not given|not stated|"
                  r"not specified|unspecified|\?+)")
_NONE_WORDS = (r"(?:none|nil|no|nothing|nkda|nka|nkma|none known|no known(?: drug)? allergies|"
               r"no allergies|no meds|no medications?)")
_UNKNOWN_RE = re.compile(rf"^\s*(?:it'?s |is |are |status )?{_UNKNOWN_WORDS}\s*[.!]?\s*$", re.I)
_NONE_RE = re.compile(rf"^\s*{_NONE_WORDS}\s*[.!]?\s*$", re.I)
_YES_RE = re.compile(r"^\s*(?:yes|y|yeah|yep|true|she is|pregnant|positive)\s*[.!]?\s*$", re.I)
_NO_RE = re.compile(r"^\s*(?:no|n|nope|false|not pregnant|negative|she is not|she's not|she isn'?t|"
                    r"not)\s*[.!]?\s*$", re.I)
_PROCEED_RE = re.compile(r"^\s*(?:just |please )?(?:proceed|go ahead|continue|skip(?: it| that)?|"
                         r"recommend anyway|go on|carry on)(?: anyway| without it| please)?\s*[.!]?\s*$",
                         re.I)
_NUMBER_RE = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*$")

# Labels people (and rxassist.prompt.user_message) put before a value.
LABELS: dict[str, str] = {
    "age": r"age",
    "sex": r"sex|gender",
    "pregnant": r"pregnant|pregnancy(?: status)?",
    "weight_kg": r"weight|wt|body weight",
    "allergies": r"(?:drug |known |medication )?allerg(?:y|ies|ens?)",
    "current_medications": r"(?:current |home |regular |active )?(?:medications?|meds|medicines|"
                           r"drugs)(?: list)?",
    "diagnosis": r"(?:working |primary |main )?(?:diagnosis|diagnoses|dx|indication|condition|"
                 r"problem)",
}
_LABEL_RE = re.compile(
    r"(?<![\w])(?P<label>" + "|".join(f"(?P<{k}>{v})" for k, v in LABELS.items()) + r")\s*[:=]\s*",
    re.I)
_NEXT_LABEL = re.compile(r"[.;]\s+[A-Za-z][\w ]{0,20}:")
_PATIENT_HEADER_RE = re.compile(r"(?<![\w])patient\s*:\s*(?=$|\n)", re.I | re.M)
_SENT_END = re.compile(r"[;\n]|\.(?!\d)|[!?]")

# What leads into a diagnosis (stripped before the rest is taken as the diagnosis). Those in
# EXPLICIT mark the text as a stated diagnosis, which may replace an earlier one.
DIAGNOSIS_CUES = (r"diagnosed with", r"diagnosis of", r"dx of", r"dx", r"presents? with",
                  r"presenting with", r"complain(?:s|ing)? of", r"c/o", r"suffering from",
                  r"treated for", r"here for", r"seen for", r"being seen for", r"with", r"has",
                  r"have", r"had", r"for", r"and", r"also", r"plus", r"but", r"who", r"that",
                  r"is", r"a", r"an", r"the", r"patient", r"pt", r"presents", r"now", r"today",
                  r"known", r"new", r"she", r"he", r"they", r"suspected", r"likely", r"acute",
                  r"w/", r"needs? (?:treatment|something|a prescription|meds|medication) for",
                  r"needs", r"requires", r"treatment for", r"my", r"our", r"this", r"in",
                  r"at")
EXPLICIT_DIAGNOSIS = re.compile(r"^\s*(?:diagnosed with|diagnosis of|dx of|dx|working diagnosis)\b",
                                re.I)
_LEAD_CUE_RE = re.compile(r"^(?:" + "|".join(c for c in DIAGNOSIS_CUES
                                             if c not in ("suspected", "likely", "acute", "new",
                                                          "known"))
                          + r")(?:\b|(?<=/))[\s:,-]*", re.I)
# Words about who the patient is, not what they have.
_PERSON_RE = re.compile(r"\b(?:child|infant|baby|newborn|neonate|toddler|adult|elderly|teen(?:ager)?|"
                        r"adolescent|pt|patient|y/?o)\b", re.I)
# "Mrs Smith", "Dr. Jones": a title and a name are not a diagnosis (and should not be sent).
_TITLE_NAME_RE = re.compile(r"\b(?P<t>mr|mrs|ms|miss|mister)\.?\s+[A-Z][a-z'-]+", re.I)
# Lab values and vital signs: kept as notes, never part of the diagnosis.
_LAB_RE = re.compile(r"\b(?:hba1c|a1c|egfr|gfr|crcl|creatinine|cr|bp|blood pressure|hr|heart rate|"
                     r"temp|temperature|spo2|sats?|inr|wbc|crp|bmi|k|na|potassium|sodium|alt|ast)"
                     r"\s*(?:of|is|was|:|=)?\s*[<>]?\s*\d+(?:[.,/]\d+)?\s*(?:%|mmhg|bpm|c|f|"
                     r"mg/dl|mmol/l|ml/min)?", re.I)
# Negative findings ("no fever", "not sexually active") are context, not the diagnosis.
_NEGATIVE_CLAUSE = re.compile(r"^(?:no|not|non|denies|without|negative for)\b", re.I)
# Shorthand for allergens people write.
ALLERGEN_SYNONYMS = {"pen": "penicillin", "pcn": "penicillin", "pcns": "penicillin",
                     "sulpha": "sulfa", "sulphonamides": "sulfonamides", "asa": "aspirin"}
_FILLER_RE = re.compile(
    r"^(?:hi|hello|hey|ok|okay|thanks|thank you|please|sure|great|good|fine|yes|no|so|well|"
    r"any (?:recommendations?|suggestions?|ideas|thoughts)|treatment|options?|help|advice|"
    r"what now|correction|update|also|and)\b[\s!.]*$", re.I)
_QUESTION_START = re.compile(r"^(?:what|which|how|can|could|should|would|is|are|do|does|why|when|"
                             r"who|any)\b", re.I)

_UNKNOWN_FIELD_RES: list[tuple[str, re.Pattern]] = [
    (f, re.compile(p, re.I)) for f, p in [
        ("allergies", rf"\b(?:drug )?allerg(?:y|ies|ic)(?: status| history| hx| list)?\s*"
                      rf"(?:is |are |:|-)?\s*{_UNKNOWN_WORDS}"),
        ("allergies", r"\b(?:unknown|unclear|undocumented|unrecorded)\s+(?:drug\s+)?allerg(?:y|ies)"
                      r"(?:\s+status)?\b"),
        ("allergies", r"\b(?:no|without) (?:known )?(?:record|information|info|documentation) "
                      r"(?:of|on|about) allerg(?:y|ies)\b"),
        ("current_medications", rf"\b(?:current |home |regular )?(?:meds|medications?|medication list|"
                                rf"med list)\s*(?:is |are |:|-)?\s*{_UNKNOWN_WORDS}"),
        ("current_medications", r"\b(?:unknown|unclear|undocumented)\s+(?:current\s+)?"
                                r"(?:meds|medications?)\b"),
        ("diagnosis", rf"\b(?:diagnosis|dx)\s*(?:is |:|-)?\s*(?:still )?{_UNKNOWN_WORDS}"),
        ("diagnosis", r"\b(?:unknown|unclear) (?:diagnosis|dx)\b"),
        ("age", rf"\bage\s*(?:is |:|-)?\s*{_UNKNOWN_WORDS}"),
        ("age", r"\b(?:unknown|unclear) age\b"),
        ("sex", rf"\b(?:sex|gender)\s*(?:is |:|-)?\s*{_UNKNOWN_WORDS}"),
        ("sex", r"\b(?:unknown|unclear) (?:sex|gender)\b"),
        ("weight_kg", rf"\bweight\s*(?:is |:|-)?\s*{_UNKNOWN_WORDS}"),
        ("weight_kg", r"\b(?:unknown|unclear) weight\b"),
        ("pregnant", rf"\bpregnan(?:cy|t)(?: status| test)?\s*(?:is |:|-)?\s*(?:{_UNKNOWN_WORDS}|"
                     r"possible|not excluded|not ruled out|pending)"),
        ("pregnant", r"\b(?:possibly|maybe|may be|might be|could be|unsure if|unknown if|not sure if|"
                     r"unclear if|unknown whether|unclear whether|\?\s*)\s*pregnant\b"),
        ("pregnant", r"\b(?:unknown|unclear) pregnancy(?: status)?\b"),
    ]
]

_FIELD_WORDS = {"age": "age", "sex": "sex", "gender": "sex", "weight": "weight_kg",
                "allergies": "allergies", "allergy": "allergies", "medications": "current_medications",
                "meds": "current_medications", "pregnancy": "pregnant", "pregnancy status": "pregnant"}
_FIELD_WORD = r"(?:pregnancy status|pregnancy|age|sex|gender|weight|allerg(?:y|ies)|medications|meds)"
# "age, sex and allergies unknown": several fields stated unknown at once.
_UNKNOWN_LIST_RE = re.compile(rf"\b({_FIELD_WORD}(?:\s*(?:,|and|&|/)\s*{_FIELD_WORD})+)\s*"
                              rf"(?:are |is |all |both )*(?::\s*)?{_UNKNOWN_WORDS}", re.I)

_ALLERGY_CUE = re.compile(r"\b(?:allergic|allergy|allergies|hypersensitiv\w*|intoleran\w*|"
                          r"reacts?|reaction)\s+(?:reactions?\s+)?(?:to|with)\s+", re.I)
_ALLERGY_SUFFIX = re.compile(r"\b([a-z][a-z\-]{2,})(?:\s+(?:drugs?|antibiotics?|class))?[\s-]+"
                             r"(?:allergy|allergic|allergies|hypersensitivity)\b", re.I)
_NOT_ALLERGEN_WORDS = frozenset("""no known any food seasonal has with severe mild her his an the
    reported documented drug drugs medication medications multiple other environmental
    and or of to is""".split())
# Allergen classes people name that are not single drugs; after the first item of an allergy
# list, an item must be one of these or a drug the lexicon knows ("allergic to sulfa, diabetic"
# must not turn "diabetic" into an allergen).
ALLERGEN_CLASSES = frozenset({
    "sulfa", "sulpha", "sulfas", "sulfa drugs", "sulfonamide", "sulfonamides", "sulphonamides",
    "penicillin", "penicillins", "cephalosporin", "cephalosporins", "beta-lactam", "beta-lactams",
    "beta lactams", "carbapenems", "nsaid", "nsaids", "aspirin", "opioid", "opioids", "opiate",
    "opiates", "codeine", "morphine", "macrolide", "macrolides", "quinolone", "quinolones",
    "fluoroquinolone", "fluoroquinolones", "tetracycline", "tetracyclines", "statin", "statins",
    "ace inhibitor", "ace inhibitors", "anticonvulsants", "latex", "iodine", "contrast", "egg",
    "eggs", "peanut", "peanuts", "shellfish", "bee stings"})
_NO_ALLERGY = re.compile(r"\b(?:nkda|nka|nkma|no known (?:drug |medication )?allerg(?:y|ies)|"
                         r"no (?:drug |medication )?allerg(?:y|ies)|denies (?:any )?allerg(?:y|ies)|"
                         r"not allergic to anything|allergic to nothing|allergies?\s*(?:[:\-]|are|is)?\s*(?:none|nil|no)"
                         r"\b|without allerg(?:y|ies))\b", re.I)

_MED_CUE_STRONG = re.compile(
    r"\b(?:takes|taking|take|currently (?:on|taking|takes)|uses|using|maintained on|"
    r"on (?:regular|daily|long[- ]term|chronic|maintenance)|home meds?(?: include| are)?|"
    r"medications? (?:include|includes|are)|meds (?:include|are)|prescribed)\s+", re.I)
_MED_CUE_WEAK = re.compile(r"\b(?:on|also on|already on)\s+", re.I)
_NO_MEDS = re.compile(r"\b(?:no (?:regular |current |other |daily |long[- ]term )?(?:meds|medications?|"
                      r"medicines|drugs)|not on (?:any )?(?:meds|medications?|medicines|drugs|"
                      r"anything)|takes? nothing(?: regular(?:ly)?| daily)?|nothing regular|"
                      r"takes no (?:meds|medications?|medicines)|on no (?:meds|"
                      r"medications?)|(?:meds|medications?)\s*[:\-]?\s*(?:none|nil))\b", re.I)

_ITEM_SPLIT = re.compile(r"\s*(?:,|\band\b|\bor\b|/|&|\+)\s*", re.I)
_LIST_STOP = re.compile(
    r"^(?:on|takes|taking|currently|current|meds|medications?|pregnant|\d+|age|aged|weight|weighs|"
    r"dx|diagnos\w*|has|had|have|with|presents?|presenting|complain\w*|c/o|g\d|not|is|was|who|"
    r"she|he|her|his|their|patient|pt|allerg\w*|nkda|no|also|now|today|here|for|but|which|"
    r"otherwise|recommend\w*|please|what|and|nothing|none|uti|pneumonia|infection|otitis|"
    r"\w+itis)\b", re.I)
_DOSE_TAIL = re.compile(r"\s*\b\d+(?:\.\d+)?\s*(?:mg|mcg|ug|µg|g|ml|units?|iu|%|mmol)\b.*$", re.I)
_FREQ_TAIL = re.compile(r"\s*\b(?:daily|once|twice|bid|tid|qid|qd|od|prn|nightly|weekly|monthly|"
                        r"every \w+|as needed|po|iv|im|sc)\b.*$", re.I)
_PAREN = re.compile(r"\([^)]*\)")

_AGE_PATTERNS: list[tuple[re.Pattern, float]] = [
    (re.compile(r"\b(\d{1,3}(?:\.\d+)?)\s*-?\s*(?:years?|yrs?|yr|y)\s*-?\s*(?:old|o\b\.?)", re.I), 1.0),
    (re.compile(r"\b(\d{1,3})\s*-?\s*(?:yo|y/o|y\.o\.?|yoa|yrs? old)(?![a-z])", re.I), 1.0),
    (re.compile(r"\baged?\s*(?:of\s*)?[:=]?\s*(\d{1,3}(?:\.\d+)?)\b(?!\s*(?:kg|lb|mg|weeks?|"
                r"days?|months?))", re.I), 1.0),
    (re.compile(r"\b(\d{1,2})\s*-?\s*(?:months?|mos?|mo)\s*-?\s*old\b|\b(\d{1,2})\s*m/o\b", re.I),
     1 / 12),
    (re.compile(r"\b(\d{1,2})\s*-?\s*(?:weeks?|wks?)\s*-?\s*old\b", re.I), 1 / 52),
    (re.compile(r"\b(\d{1,2})\s*-?\s*days?\s*-?\s*old\b", re.I), 1 / 365),
    # "she is 25", "patient is 60"
    (re.compile(r"\b(?:she|he|patient|pt)\s+is\s+(?:a\s+)?(\d{1,3})\b(?!\s*(?:kg|kgs|lbs?|weeks?|"
                r"wks?|days?|months?|%|mg|/|\.\d))", re.I), 1.0),
    # "in her 30s", "late 60s": the middle of the decade, noted as approximate.
    (re.compile(r"\b(?:in (?:her|his|their) )?(?:early |mid |late )?(\d)0'?s\b", re.I), -1.0),
    # "34F", "34 M", "34yo F" style shorthand; the sex letter is read by _AGE_SEX below.
    (re.compile(r"(?<![\d.])\b(\d{1,3})\s?(?:f|m)\b(?!\s*/)", re.I), 1.0),
    # "34 years, female" only at the start of a clause: "for 10 years" is a duration.
    (re.compile(r"(?:^|[,;\n]\s*)(?:patient\s+|pt\s+)?(\d{1,3})\s*(?:years?|yrs?)\b(?!\s*(?:ago|of|"
                r"history|duration))", re.I), 1.0),
]
_AGE_SEX = re.compile(r"(?<![\d.])\b\d{1,3}\s?(?:yo|y/o|y\.o\.?|years? old|-year-old)?\s?"
                      r"(?P<s>f|m)\b(?!\s*/)", re.I)

_FEMALE_STRONG = r"female|woman|women|lady|girl|mrs|pregnant"
_MALE_STRONG = r"male|man|men|gentleman|boy|guy"
_FEMALE_WEAK = r"she|her|hers|herself|mother|mom|mum|wife|daughter|sister|grandmother"
_MALE_WEAK = r"he|him|his|himself|father|dad|husband|son|brother|grandfather"
_SEX_RES = [
    (re.compile(rf"\b(?:{_FEMALE_STRONG})\b\.?", re.I), "female", 1),
    (re.compile(rf"\b(?:{_MALE_STRONG})\b\.?", re.I), "male", 1),
    (re.compile(rf"\b(?:{_FEMALE_WEAK})\b", re.I), "female", 2),
    (re.compile(rf"\b(?:{_MALE_WEAK})\b", re.I), "male", 2),
]

_PREG_FALSE = re.compile(r"\b(?:not|non|isn'?t|is not|never been|no longer)\s*-?\s*pregnant\b|"
                         r"\bnegative (?:urine |serum )?(?:pregnancy test|hcg|b-?hcg|upt)\b|"
                         r"\b(?:pregnancy test|hcg|b-?hcg|upt)\s*(?:is |was |:)?\s*negative\b|"
                         r"\b(?:post-?menopausal|menopausal|hysterectomy)\b", re.I)
_PREG_TRUE = re.compile(r"\b(?:at )?\d{1,2}\s*(?:weeks?|wks?|w)\s*(?:pregnant|gestation|ga|"
                        r"of pregnancy|of gestation)\b|"
                        r"\b(?:currently |is )?pregnant(?: at \d{1,2} weeks)?\b|"
                        r"\b(?:gravid|expecting a baby|g\d\s*p\d|"
                        r"(?:first|second|third|1st|2nd|3rd) trimester)\b", re.I)
_BREASTFEEDING = re.compile(r"\b(?:breast-?feeding|lactating|nursing (?:mother|her baby))\b", re.I)

_WEIGHT_KG = re.compile(r"\b(\d{1,3}(?:\.\d+)?)\s*(?:kg|kgs|kilograms?|kilos?)\b", re.I)
_WEIGHT_LB = re.compile(r"\b(\d{1,3}(?:\.\d+)?)\s*(?:lbs?|pounds)\b", re.I)

# A request ("recommend oxycodone", "can I give nitrofurantoin") names what is asked about, not
# what the patient takes: the verb and its object (up to "for/to/in/with" or punctuation) go.
_REQUEST_RE = re.compile(
    r"\b(?:(?:please )?recommend\w*|prescrib\w*|suggest\w*|switch(?:ing)? to|instead of|what about|"
    r"how about|(?:can|could|should|may) (?:i|we|you) (?:use|give|start|prescribe|recommend|try)|"
    r"is it (?:ok|okay|safe) to (?:use|give|start|prescribe)|what (?:do|would|should|can) (?:you|i|we)"
    r"(?: \w+)?|what to (?:give|prescribe|use)|options? for|alternatives? to|"
    r"treat(?:ment)? options?|what antibiotics?|which (?:drug|antibiotic|medication)s?)"
    r"(?:[ \t]+(?!(?:for|to|in|with|a|an|the|this|my|our|her|his)\b)[^\s,.;?!\n]+){0,4}?"
    r"(?=[ \t]+(?:for|to|in|with|a|an|the|this|my|our|her|his)\b|[,.;?!\n]|$)", re.I)
_QUESTION_CLAUSE = re.compile(r"(?:^|(?<=[.;\n]))[^.;\n?]*\?", re.I)


@dataclass
class Findings:
    """What one user turn says. A key in `values` was stated; a name in `unknown` was stated as
    unknown; anything else was not mentioned."""

    values: dict[str, Any] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    diagnosis_explicit: bool = False      # "Diagnosis: ...", "diagnosed with ..."
    diagnosis_candidates: list[str] = field(default_factory=list)   # free clauses left over
    bare_none: bool = False               # a clause that is just "none"/"NKDA"
    bare_unknown: bool = False            # a clause that is just "unknown"/"not recorded"
    bare_yes: bool = False
    bare_no: bool = False
    bare_number: float | None = None
    proceed: bool = False                 # "proceed", "go ahead": recommend with what is known
    correction: bool = False              # "Correction: ..." replaces lists instead of adding
    notes: list[str] = field(default_factory=list)     # understood but not checkable

    @property
    def clinical(self) -> bool:
        """Anything clinical at all, loose clauses included."""
        return bool(self.values or self.unknown or self.diagnosis_candidates)

    @property
    def patient_facts(self) -> bool:
        """A patient field or a stated diagnosis: loose clauses ("write me a poem") do not count."""
        return bool(self.values or self.unknown)


class _Text:
    """The turn with a mask of characters already explained."""

    def __init__(self, text: str):
        self.s = text
        self.used = bytearray(len(text))

    def free(self, a: int, b: int) -> bool:
        return not any(self.used[a:b])

    def take(self, a: int, b: int) -> None:
        for i in range(a, b):
            self.used[i] = 1

    def matches(self, pattern: re.Pattern, start: int = 0, end: int | None = None):
        end = len(self.s) if end is None else end
        for m in pattern.finditer(self.s, start, end):
            if m.end() > m.start() and self.free(m.start(), m.end()):
                yield m

    def leftover(self, a: int = 0, b: int | None = None) -> str:
        b = len(self.s) if b is None else b
        # Explained characters become clause breaks, so what is left splits into pieces.
        return "".join(ch if not self.used[i] else "\x00" for i, ch in enumerate(self.s[a:b], a))


def _sentence_end(text: str, pos: int, limit: int | None = None) -> int:
    m = _SENT_END.search(text, pos, len(text) if limit is None else limit)
    return m.start() if m else (len(text) if limit is None else limit)


def _clean_item(item: str) -> str:
    item = _PAREN.sub(" ", item)
    item = _DOSE_TAIL.sub("", item)
    item = _FREQ_TAIL.sub("", item)
    return re.sub(r"\s+", " ", item).strip(" .:-'\"")


def _read_list(t: _Text, start: int, end: int, accept: Callable[[str], bool],
               accept_rest: Callable[[str], bool] | None = None) -> tuple[list[str], int]:
    """Items of a comma/and-separated list starting at `start`; stops at the first item that is
    not accepted (e.g. "on levothyroxine" after an allergy list). Returns items and where they end."""
    items: list[str] = []
    pos = start
    last_end = start
    for m in re.finditer(r"[^,/&+]+?(?=\s*(?:,|\band\b|\bor\b|/|&|\+|$))", t.s[start:end], re.I):
        raw = m.group(0)
        a, b = start + m.start(), start + m.end()
        if a < pos:
            continue
        stripped = re.sub(r"^\s*(?:and|or)\s+", "", raw, flags=re.I)
        item = _clean_item(stripped)
        if not item:
            continue
        check = accept if not items or accept_rest is None else accept_rest
        if _LIST_STOP.match(item) or len(item.split()) > 4 or not check(item) or not t.free(a, b):
            break
        items.append(item)
        last_end = b
        pos = b
    return items, last_end


def _split_drugs(items: list[str], finder: "DrugFinder") -> list[str]:
    """"lisinopril metformin" (no separator) -> both, when the lexicon finds several drugs."""
    out: list[str] = []
    for item in items:
        found = [d.input for d in finder(item) if getattr(d, "name", None)]
        out += found if len(found) > 1 else [item]
    return out


def _unknownish(value: str) -> bool:
    return bool(_UNKNOWN_RE.match(value))


def parse_age(value: str) -> float | None:
    v = value.strip().lower()
    for pattern, scale in _AGE_PATTERNS:
        m = pattern.search(v)
        if m:
            num = next(g for g in m.groups() if g)
            return round(float(num) * scale, 3)
    m = re.match(r"^\s*(\d{1,3}(?:\.\d+)?)\s*(years?|yrs?|y|months?|mos?|weeks?|days?)?\b", v)
    if not m:
        return None
    scale = {"m": 1 / 12, "w": 1 / 52, "d": 1 / 365}.get((m.group(2) or "y")[0], 1.0)
    return round(float(m.group(1)) * scale, 3)


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


def parse_weight(value: str) -> float | None:
    m = _WEIGHT_LB.search(value)
    if m:
        return round(float(m.group(1)) * 0.45359237, 1)
    m = re.match(r"^\s*(\d{1,3}(?:\.\d+)?)\s*(?:kg|kgs|kilograms?|kilos?)?\b", value, re.I)
    return float(m.group(1)) if m else None


def _is_known_drug(finder: DrugFinder, item: str) -> bool:
    return any(getattr(d, "name", None) for d in finder(item))


class Extractor:
    """Extracts Findings from a user turn; `drug_finder` is guardrails.find_drug_mentions."""

    def __init__(self, drug_finder: DrugFinder):
        self._find = drug_finder
        self._dx_segments: list[tuple[int, int]] = []

    # -- entry point ---------------------------------------------------------------------------
    def extract(self, text: str) -> Findings:
        f = Findings()
        stripped = text.strip()
        if re.match(r"^\s*(?:correction|update|amend(?:ment)?|change)\s*[:\-]", stripped, re.I):
            f.correction = True
            stripped = re.sub(r"^\s*\w+\s*[:\-]\s*", "", stripped)
        t = _Text(stripped)
        for m in t.matches(_PATIENT_HEADER_RE):
            t.take(m.start(), m.end())
        diagnosis_segments = self._labels(t, f)
        self._dx_segments = diagnosis_segments
        self._unknowns(t, f)
        # Numbers first, so "80 kg" or "34 yo" never end up inside a drug list.
        self._pregnancy(t, f)
        self._age(t, f)
        self._weight(t, f)
        self._context(t, f)
        self._requests(t)
        self._allergies(t, f)
        self._medications(t, f)
        self._sex(t, f)
        self._questions(t)
        self._drug_mentions(t, f, diagnosis_segments)
        self._leftover(t, f, diagnosis_segments)
        # "Mrs Smith, 72, with CHF": a lone number among other facts is the age.
        if (f.bare_number is not None and "age" not in f.values and "age" not in f.unknown
                and f.bare_number == int(f.bare_number) and 0 < f.bare_number <= 120
                and (f.values or f.diagnosis_candidates)):
            f.values["age"] = f.bare_number
            f.bare_number = None
        if f.values.get("pregnant") is True and "sex" not in f.values:
            f.values["sex"] = "female"
        return f

    # -- 1. labelled values ----------------------------------------------------------------------
    def _labels(self, t: _Text, f: Findings) -> list[tuple[int, int]]:
        found = list(_LABEL_RE.finditer(t.s))
        diagnosis_segments: list[tuple[int, int]] = []
        for i, m in enumerate(found):
            name = next(k for k in LABELS if m.group(k))
            nxt = found[i + 1].start() if i + 1 < len(found) else len(t.s)
            start = m.end()
            # A diagnosis runs to the end of its line (ICD titles hold commas and periods).
            if name == "diagnosis":
                nl = t.s.find("\n", start, nxt)
                end = nl if nl >= 0 else nxt
                # ... or where another "Something:" label starts a new sentence.
                other = _NEXT_LABEL.search(t.s, start, end)
                end = other.start() + 1 if other else end
            else:
                end = _sentence_end(t.s, start, nxt)
            value = t.s[start:end]
            t.take(m.start(), m.end())
            if name == "diagnosis":
                diagnosis_segments.append((start, end))
                if _unknownish(value):
                    t.take(start, end)
                continue
            if _unknownish(value):
                f.unknown.add(name)
                f.values.pop(name, None)
                t.take(start, end)
                continue
            if name in ("allergies", "current_medications"):
                if re.match(rf"^\s*{_NONE_WORDS}\s*$", value, re.I) or re.match(r"^\s*none\b", value, re.I):
                    f.values[name] = []
                    t.take(start, end)
                    continue
                accept = (lambda _item: True)
                items, item_end = _read_list(t, start, end, accept)
                if items:
                    f.values.setdefault(name, [])
                    f.values[name] += [x for x in items if x not in f.values[name]]
                    t.take(start, item_end)
                continue
            parser = {"age": parse_age, "sex": parse_sex, "pregnant": parse_pregnant,
                      "weight_kg": parse_weight}[name]
            parsed = parser(value)
            if parsed is not None:
                f.values[name] = parsed
                t.take(start, end)
        return diagnosis_segments

    # -- 2. stated unknowns --------------------------------------------------------------------
    def _unknowns(self, t: _Text, f: Findings) -> None:
        for m in t.matches(_UNKNOWN_LIST_RE):
            for word in re.findall(_FIELD_WORD, m.group(1), re.I):
                name = _FIELD_WORDS.get(word.lower(), "allergies" if word.lower().startswith(
                    "allerg") else None)
                if name:
                    f.unknown.add(name)
            t.take(m.start(), m.end())
        for name, pattern in _UNKNOWN_FIELD_RES:
            for m in t.matches(pattern):
                f.unknown.add(name)
                t.take(m.start(), m.end())

    # -- 3. allergies ----------------------------------------------------------------------------
    def _allergies(self, t: _Text, f: Findings) -> None:
        for m in t.matches(_NO_ALLERGY):
            f.values["allergies"] = []
            f.unknown.discard("allergies")
            t.take(m.start(), m.end())
        found: list[str] = []
        def allergen_like(item: str) -> bool:
            return item.lower() in ALLERGEN_CLASSES or _is_known_drug(self._find, item)

        for m in t.matches(_ALLERGY_CUE):
            end = _sentence_end(t.s, m.end())
            items, item_end = _read_list(t, m.end(), end, lambda _item: True, allergen_like)
            if items:
                found += _split_drugs(items, self._find)
                t.take(m.start(), item_end)
        for m in t.matches(_ALLERGY_SUFFIX):
            word = m.group(1)
            if word.lower() in _NOT_ALLERGEN_WORDS:
                continue
            found.append(word)
            t.take(m.start(), m.end())
        found = [ALLERGEN_SYNONYMS.get(a.lower(), a) for a in found]
        if found:
            current = f.values.get("allergies") or []
            f.values["allergies"] = current + [a for a in found if a not in current]
            f.unknown.discard("allergies")

    # -- 4. current medications -----------------------------------------------------------------
    def _medications(self, t: _Text, f: Findings) -> None:
        for m in t.matches(_NO_MEDS):
            f.values["current_medications"] = []
            t.take(m.start(), m.end())
        found: list[str] = []
        for cue, accept in ((_MED_CUE_STRONG, lambda item: True),
                            (_MED_CUE_WEAK, lambda item: _is_known_drug(self._find, item))):
            for m in t.matches(cue):
                end = _sentence_end(t.s, m.end())
                items, item_end = _read_list(t, m.end(), end, accept)
                if items:
                    found += _split_drugs(items, self._find)
                    t.take(m.start(), item_end)
        if found:
            current = f.values.get("current_medications") or []
            f.values["current_medications"] = current + [d for d in found if d not in current]
            f.unknown.discard("current_medications")

    # -- 5. demographics -------------------------------------------------------------------------
    def _pregnancy(self, t: _Text, f: Findings) -> None:
        for m in t.matches(_BREASTFEEDING):
            f.notes.append("breastfeeding")
            t.take(m.start(), m.end())
        for pattern, value in ((_PREG_FALSE, False), (_PREG_TRUE, True)):
            for m in t.matches(pattern):
                if "pregnant" not in f.values and "pregnant" not in f.unknown:
                    f.values["pregnant"] = value
                t.take(m.start(), m.end())

    def _age(self, t: _Text, f: Findings) -> None:
        for pattern, scale in _AGE_PATTERNS:
            for m in t.matches(pattern):
                num = next((g for g in m.groups() if g), None)
                if num is None:
                    continue
                if scale < 0:   # a decade: "30s" -> 35
                    age = float(num) * 10 + 5
                    if "age" not in f.values:
                        f.notes.append(f"age approximate ({m.group(0).strip()})")
                else:
                    age = round(float(num) * scale, 3)
                if age > 125:
                    continue
                f.values.setdefault("age", age)
                f.unknown.discard("age")
                sex = _AGE_SEX.match(t.s, m.start())
                if sex and "sex" not in f.values:
                    f.values["sex"] = "female" if sex.group("s").lower() == "f" else "male"
                    t.take(m.start(), sex.end())
                # "she is 25": the pronoun stays for _sex to read.
                start = m.start(1) if re.match(r"(?i)she|he\b", m.group(0)) else m.start()
                t.take(start, m.end())

    def _sex(self, t: _Text, f: Findings) -> None:
        best: tuple[int, int, str] | None = None   # (rank, position, sex)
        for pattern, sex, rank in _SEX_RES:
            for m in t.matches(pattern):
                # ICD titles hold sex words ("Male erectile dysfunction"); a diagnosis is not a sex.
                if any(s <= m.start() < e for s, e in self._dx_segments):
                    continue
                if rank == 1:
                    t.take(m.start(), m.end())
                candidate = (rank, m.start(), sex)
                if best is None or candidate < best:
                    best = candidate
        if best is not None and "sex" not in f.values and "sex" not in f.unknown:
            f.values["sex"] = best[2]

    def _context(self, t: _Text, f: Findings) -> None:
        """Names, lab values and person words: never part of the diagnosis."""
        for m in t.matches(_TITLE_NAME_RE):
            if "sex" not in f.values:
                f.values["sex"] = "male" if m.group("t").lower() in ("mr", "mister") else "female"
            t.take(m.start(), m.end())
        for m in t.matches(_LAB_RE):
            f.notes.append(re.sub(r"\s+", " ", m.group(0).strip()))
            t.take(m.start(), m.end())
        for m in t.matches(_PERSON_RE):
            t.take(m.start(), m.end())

    def _weight(self, t: _Text, f: Findings) -> None:
        for m in t.matches(_WEIGHT_KG):
            f.values.setdefault("weight_kg", float(m.group(1)))
            t.take(m.start(), m.end())
        for m in t.matches(_WEIGHT_LB):
            f.values.setdefault("weight_kg", round(float(m.group(1)) * 0.45359237, 1))
            t.take(m.start(), m.end())
        for m in t.matches(re.compile(r"\b(?:weighs|weighing|weight)\b", re.I)):
            t.take(m.start(), m.end())

    # -- 6./7. requests and other drug mentions --------------------------------------------------
    def _requests(self, t: _Text) -> None:
        for m in t.matches(_REQUEST_RE):
            t.take(m.start(), m.end())

    def _questions(self, t: _Text) -> None:
        for m in t.matches(_QUESTION_CLAUSE):
            t.take(m.start(), m.end())

    def _drug_mentions(self, t: _Text, f: Findings, dx_segments: list[tuple[int, int]]) -> None:
        free_text = t.leftover()
        mentions = [d for d in self._find(free_text.replace("\x00", " ")) if getattr(d, "name", None)]
        found: list[str] = []
        for d in mentions:
            for m in re.finditer(rf"(?<![\w]){re.escape(d.input)}(?![\w])", t.s, re.I):
                a, b = m.start(), m.end()
                if not t.free(a, b) or any(s <= a < e for s, e in dx_segments):
                    continue
                found.append(t.s[a:b])
                t.take(a, b)
                break
        if found:
            current = f.values.get("current_medications") or []
            f.values["current_medications"] = current + [d for d in found if d not in current]

    # -- 8. what is left: the diagnosis and short answers ----------------------------------------
    def _leftover(self, t: _Text, f: Findings, dx_segments: list[tuple[int, int]]) -> None:
        for a, b in dx_segments:
            pieces = [p for p in (_clean_piece(x) for x in re.split(r"\x00+", t.leftover(a, b))) if p]
            text = ", ".join(pieces)
            if text:
                f.values["diagnosis"] = text
                f.diagnosis_explicit = True
            t.take(a, b)
        for piece in re.split(r"[\x00,;\n]+|\.(?!\d)|!", t.leftover()):
            raw = piece.strip()
            if not raw:
                continue
            explicit = bool(EXPLICIT_DIAGNOSIS.match(raw))
            if _PROCEED_RE.match(raw):
                f.proceed = True
                continue
            if _NONE_RE.match(raw):
                f.bare_none = True
                # A bare "no" may also answer "pregnant?"; dialogue decides which was asked.
                f.bare_no = f.bare_no or bool(_NO_RE.match(raw))
                continue
            if _UNKNOWN_RE.match(raw):
                f.bare_unknown = True
                continue
            if _YES_RE.match(raw):
                f.bare_yes = True
                continue
            if _NO_RE.match(raw):
                f.bare_no = True
                continue
            num = _NUMBER_RE.match(raw)
            if num:
                f.bare_number = float(num.group(1))
                continue
            cleaned = _clean_piece(raw)
            if not cleaned:
                continue
            if _NEGATIVE_CLAUSE.match(cleaned):
                f.notes.append(cleaned)
                continue
            if explicit:
                f.values["diagnosis"] = cleaned if "diagnosis" not in f.values else (
                    f.values["diagnosis"] + ", " + cleaned)
                f.diagnosis_explicit = True
            else:
                f.diagnosis_candidates.append(cleaned)


def _clean_piece(piece: str) -> str:
    s = re.sub(r"\s+", " ", piece.replace("\x00", " ")).strip(" .:;,-'\"")
    for _ in range(6):
        new = _LEAD_CUE_RE.sub("", s).strip(" .:-,")
        if new == s:
            break
        s = new
    for _ in range(4):
        new = re.sub(r"(?:\s+|^)(?:please|thanks|thank you|today|now|in|a|an|the|to|for|with|of|"
                     r"and|at|on|who|is)\s*$", "", s, flags=re.I).strip(" .:-,?!")
        if new == s:
            break
        s = new
    if not re.search(r"[A-Za-z]{2,}", s) or _FILLER_RE.match(s) or _QUESTION_START.match(s):
        return ""
    if len(s) > 200:
        s = s[:200].rsplit(" ", 1)[0]
    return s


def extract_all(texts: Iterable[str], finder: DrugFinder) -> list[Findings]:
    ex = Extractor(finder)
    return [ex.extract(t) for t in texts]
