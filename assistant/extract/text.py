"""The span mask (which characters of a turn are already explained) and list reading.

Every field reader takes the characters it explains, so a later reader never reads them again:
"80 kg" is weight, never part of a drug list; what no reader takes is left for the diagnosis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from assistant.labels import note_text


class DrugMention(Protocol):
    input: str
    status: str
    name: str | None


DrugFinder = Callable[[str], "list[DrugMention]"]
DrugNormalizer = Callable[[str], DrugMention]     # guardrails.normalize: status "fuzzy" = a guess


@dataclass
class Findings:
    """What one user turn says. A key in `values` was stated; a name in `unknown` was stated as
    unknown; anything else was not mentioned."""

    values: dict[str, Any] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    diagnosis_explicit: bool = False      # "Diagnosis: ...", "diagnosed with ..."
    diagnosis_candidates: list[str] = field(default_factory=list)   # free clauses left over
    # Two or more conditions named with no cue to the question ("HTN, T2DM"): ask which.
    diagnosis_choices: list[str] = field(default_factory=list)
    bare_none: bool = False               # a clause that is just "none"/"NKDA"
    bare_unknown: bool = False            # a clause that is just "unknown"/"not recorded"
    bare_yes: bool = False
    bare_no: bool = False
    bare_number: float | None = None
    proceed: bool = False                 # "proceed", "go ahead": recommend with what is known
    correction: bool = False              # "Correction: ..." replaces lists instead of adding
    notes: list[str] = field(default_factory=list)     # understood but not checkable
    # note -> (kind, arguments) in the label catalogue's "notes": how a reply in another
    # language says it (the English text stays what the API returns).
    note_kinds: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    # Conditions a current drug is said to be for ("on metformin for T2DM"): comorbidities,
    # unless the turn asks to do more for them ("..., needs intensification").
    treated: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # field -> what was said, impossible

    @property
    def clinical(self) -> bool:
        """Anything clinical at all, loose clauses included."""
        return bool(self.values or self.unknown or self.diagnosis_candidates)

    @property
    def patient_facts(self) -> bool:
        """A patient field or a stated diagnosis: loose clauses ("write me a poem") do not count."""
        return bool(self.values or self.unknown)

    def add_items(self, name: str, items: list[str]) -> None:
        """Append list items (allergies, medications) not yet recorded."""
        current = self.values.get(name) or []
        self.values[name] = current + [x for x in items if x not in current]

    def note(self, kind: str, **args: Any) -> str:
        """Record a note of a catalogued kind (assistant/labels, "notes"), once."""
        text = note_text(kind, **args)
        if text not in self.notes:
            self.notes.append(text)
        self.note_kinds.setdefault(text, (kind, args))
        return text

    def remove_items(self, name: str, items) -> None:
        """Drop list items read as something else (a comorbidity that turned out to be the
        question); a list left empty is no longer recorded."""
        kept = [x for x in self.values.get(name, []) if x not in items]
        if kept:
            self.values[name] = kept
        else:
            self.values.pop(name, None)


class Text:
    """The turn with a mask of characters already explained."""

    def __init__(self, text: str):
        self.s = text
        self.used = bytearray(len(text))
        # Conditions named as background by their place ("AF on apixaban"), left for the
        # diagnosis reader to rank below the question.
        self.background: list[tuple[int, int]] = []

    def free(self, a: int, b: int) -> bool:
        return not any(self.used[a:b])

    def take(self, a: int, b: int) -> None:
        self.used[a:b] = b"\x01" * max(0, min(b, len(self.s)) - a)

    def mark_background(self, a: int, b: int) -> None:
        self.background.append((a, b))

    def in_background(self, a: int, b: int) -> bool:
        return any(s < b and a < e for s, e in self.background)

    def matches(self, pattern: re.Pattern, start: int = 0, end: int | None = None):
        end = len(self.s) if end is None else end
        for m in pattern.finditer(self.s, start, end):
            if m.end() > m.start() and self.free(m.start(), m.end()):
                yield m

    def leftover(self, a: int = 0, b: int | None = None) -> str:
        b = len(self.s) if b is None else b
        # Explained characters become clause breaks, so what is left splits into pieces.
        return "".join(ch if not self.used[i] else "\x00" for i, ch in enumerate(self.s[a:b], a))


_SENT_END = re.compile(r"[;\n]|\.(?!\d)|[!?]")
_LIST_STOP = re.compile(
    r"^(?:on|takes|taking|currently|current|meds|medications?|pregnant|\d+|age|aged|weight|weighs|"
    r"dx|diagnos\w*|has|had|have|with|presents?|presenting|complain\w*|c/o|g\d|not|is|was|who|"
    r"she|he|her|his|their|patient|pt|allerg\w*|nkda|no|also|now|today|here|for|but|which|"
    r"otherwise|recommend\w*|please|what|and|nothing|none|uti|pneumonia|infection|otitis|wants?|"
    r"would|needs?|requires?|plan\w*|to|"
    r"\w+itis)\b", re.I)
_DOSE_TAIL = re.compile(r"\s*\b\d+(?:\.\d+)?\s*(?:mg|mcg|ug|µg|g|ml|units?|iu|%|mmol)\b.*$", re.I)
# How often, US and UK shorthand ("bd", "tds", "nocte": twice, three times daily, at night).
FREQUENCY = (r"(?:(?:once|twice) daily|daily|once|twice|bid|tid|qid|qd|od|bd|tds|qds|nocte|mane|prn|"
             r"qhs|hs|qam|qpm|qod|qday|q\d{1,2}h|at night|at bedtime|"
             r"nightly|weekly|monthly|every \w+|as needed)")
# "prenatal vitamins only": a word after the drug that is no part of its name.
_FREQ_TAIL = re.compile(rf"\s*\b(?:{FREQUENCY}|po|iv|im|sc|only)\b.*$", re.I)
_PAREN = re.compile(r"\([^)]*\)")
# "allopurinol 300", "sertraline 100 for depression": a dose written without its unit is no part
# of the name ("sertraline for 2 yrs" has none).
_BARE_DOSE = re.compile(r"(?<!\bfor)(?<!\bx)\s+\d+(?:\.\d+)?"
                        r"(?=\s+(?:for|to treat|because of|due to)\b|$)", re.I)


def sentence_end(text: str, pos: int, limit: int | None = None) -> int:
    """Where the sentence from `pos` ends; a bracket opened before `pos` ends it too, so
    "gout (on allopurinol), HTN" lists one drug and leaves "HTN" for the diagnosis reader."""
    limit = len(text) if limit is None else limit
    m = _SENT_END.search(text, pos, limit)
    end = m.start() if m else limit
    close = _closing_bracket(text, pos, end)
    return end if close is None else close


def _closing_bracket(text: str, pos: int, end: int) -> int | None:
    depth = 0
    for i in range(pos, end):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            if depth == 0:
                return i
            depth -= 1
    return None


def _clean_item(item: str) -> str:
    item = _PAREN.sub(" ", item)
    item = _DOSE_TAIL.sub("", item)
    item = _FREQ_TAIL.sub("", item)
    return re.sub(r"\s+", " ", item).strip(" .:-'\"")


_LIST_ITEM = re.compile(r"[^,/&+]+?(?=\s*(?:,|\band\b|\bor\b|/|&|\+|$))", re.I)
# Medications: "x/y" is one combination product, and a bracket is never split.
_PRODUCT_ITEM = re.compile(r"[^,&+]+?(?=\s*(?:,|\band\b|\bor\b|&|\+|$))", re.I)


def _masked_brackets(s: str) -> str:
    """The text with what is inside brackets hidden (same length), so no list splits there."""
    return re.sub(r"\([^()]*\)", lambda m: "(" + "\x01" * (len(m.group(0)) - 2) + ")", s)


def read_list(t: Text, start: int, end: int, accept: Callable[[str], bool],
              accept_rest: Callable[[str], bool] | None = None, *,
              products: Callable[[str], bool] | None = None) -> tuple[list[str], int]:
    """Items of a comma/and-separated list starting at `start`; stops at the first item that is
    not accepted (e.g. "on levothyroxine" after an allergy list). Returns items and where they end.

    With `products` (is this a drug?) the list is of medicines: "x/y" is one combination
    product, a bracket is one piece with its item, and a bracket that names a drug is the item
    ("OCP (ethinyl estradiol/norgestimate)" -> "ethinyl estradiol/norgestimate")."""
    items: list[str] = []
    pos = start
    last_end = start
    pattern = _PRODUCT_ITEM if products else _LIST_ITEM
    masked = _masked_brackets(t.s[start:end]) if products else t.s[start:end]
    for m in pattern.finditer(masked):
        raw = t.s[start + m.start():start + m.end()]
        a, b = start + m.start(), start + m.end()
        if a < pos:
            continue
        stripped = re.sub(r"^\s*(?:and|or)\s+", "", raw, flags=re.I)
        inner = re.search(r"\(([^()]+)\)", stripped) if products else None
        if inner and products(_clean_item(inner.group(1))):
            stripped = inner.group(1)
        item = _clean_item(stripped)
        without_dose = _BARE_DOSE.sub("", item, count=1)
        if products and without_dose != item and products(without_dose):
            item = without_dose
        if not item:
            continue
        check = accept if not items or accept_rest is None else accept_rest
        if _LIST_STOP.match(item) or len(item.split()) > 4 or not check(item) or not t.free(a, b):
            break
        items.append(item)
        last_end = b
        pos = b
    return items, last_end


def split_drugs(items: list[str], finder: DrugFinder) -> list[str]:
    """"lisinopril metformin" (no separator) -> both, when the lexicon finds several drugs."""
    out: list[str] = []
    for item in items:
        if "/" in item:      # "sacubitril/valsartan": one combination product
            out.append(item)
            continue
        found = [d.input for d in finder(item) if getattr(d, "name", None)]
        out += found if len(found) > 1 else [item]
    return out


def is_known_drug(finder: DrugFinder, item: str) -> bool:
    return any(getattr(d, "name", None) for d in finder(item))
