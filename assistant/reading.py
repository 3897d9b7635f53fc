"""Merging the language-model reader's proposal into the rule reader's consultation.

The rule reader (assistant.extract via assistant.dialogue.fold) stays the authority. In `both`
mode the model's reading may only add caution:

    allergies, current medications   the union of both readers (the model's items only when
                                     they are written in the consultation; a medication only
                                     when the drug knowledge base knows the name)
    age, sex, weight, diagnosis      filled from the model only where the rules left the field
                                     empty, and only with a value the text contains
    pregnancy                        filled only with "pregnant"; a model's "not pregnant"
                                     would remove a check, so the question stays open
    a different value                the rules' value is kept and the difference is shown

Every difference becomes a ReaderNote (the result's `reader_notes`), and those the clinician
should check are also added to the consultation's notes, which the answer's "Understood so far"
line shows. In `llm` mode (for comparing readers) the model's grounded reading replaces the
rules' fields; harm and injection screening stay the rules'.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence

from recommend.schemas import ReaderNote

from assistant.dialogue import Consultation
from assistant.extract.allergies import is_allergen
from assistant.labels import note_text

if TYPE_CHECKING:   # the reader itself (LangChain, openai) loads only when a mode needs it
    from assistant.llm_reader import LLMReading, PatientReading

ReaderMode = Literal["rules", "llm", "both"]
READER_MODES: tuple[str, ...] = ("rules", "llm", "both")

# A list item that means "nothing", not a drug.
_EMPTY_WORDS = re.compile(r"^(?:none|no|nil|nkda|nka|unknown|n/?a|null|없음|없다|모름)\b", re.I)
# Markup never travels from the model's answer into the clinician's Markdown.
_MARKUP = re.compile(r"[<>\[\]{}()!*_`|\\]")
# Korean: 남자/남성/남아, or a bare 남 right after the age ("67세 남"); 여 alike.
_SEX_WORDS = {
    "male": re.compile(r"(?:\b|(?<=\d))m\b(?!/)|\b(?:male|man|boy|gentleman|mr|he|his|him)\b"
                       r"|남(?:자|성|아)|세\s*남(?!\w)", re.I),
    "female": re.compile(r"(?:\b|(?<=\d))f\b(?!/)|\b(?:female|woman|girl|lady|mrs|ms|she|her)\b"
                         r"|여(?:자|성|아)|세\s*여(?!\w)", re.I),
}
_PREGNANT = re.compile(r"pregnan|임신|\bG\d+P\d+", re.I)
# Wider bounds are the rules' business (assistant.bounds): the model never fills an odd value.
_PLAUSIBLE = {"age": (0, 120), "weight_kg": (0.3, 350)}
_WORD = re.compile(r"[^\W\d_]{3,}")

DrugFinder = Callable[[str], list]
Ingredients = Callable[[str], list[str]]


def user_turns(history: Sequence[dict]) -> list[str]:
    return [m.get("content") or "" for m in history if m.get("role") == "user"]


# A number is an age or a weight only with its unit or label beside it: "62 M, 62 kg" must
# not let a small model's copied age become the weight.
_NUMBER_CONTEXT = {
    "age": (r"\s*(?:y\b|yo\b|y/o|yrs?\b|years?\b|-year|세|살|[mf]\b)",
            r"(?:\bage[d]?|나이)\s*:?\s*"),
    "weight_kg": (r"\s*(?:kg\b|킬로|㎏)", r"(?:\bweigh\w*|\bwt|체중)\s*:?\s*"),
}


def _number_in(text: str, value: float, name: str) -> bool:
    n = re.escape(f"{value:g}")
    after, before = _NUMBER_CONTEXT[name]
    return re.search(rf"(?<![\d.]){n}(?![\d.]){after}|{before}{n}(?![\d])", text,
                     re.I) is not None


def _words_in(text: str, phrase: str) -> bool:
    """Every word of the phrase is written in the text (Korean: the phrase itself)."""
    low = text.casefold()
    words = _WORD.findall(phrase.casefold())
    if not words:
        return phrase.strip().casefold() in low and bool(phrase.strip())
    return all(w in low for w in words)


class _Grounding:
    """Which of the model's values the consultation text actually contains."""

    def __init__(self, text: str, finder: DrugFinder):
        self.text = text
        self.low = text.casefold()
        self._find = finder

    @property
    def finder(self) -> DrugFinder:
        return self._find

    def item(self, raw: str) -> str | None:
        item = " ".join(raw.split()).strip(" .,;:-'\"")
        if (len(item) < 2 or _MARKUP.search(item) or _EMPTY_WORDS.match(item)
                or item.casefold() not in self.low):
            return None
        return item

    def drug(self, raw: str) -> str | None:
        item = self.item(raw)
        if item is None:
            return None
        # The knowledge base's own reading of the name: "metformin 500 mg" -> "metformin".
        known = [m for m in self._find(item) if getattr(m, "name", None)
                 and getattr(m, "status", "") in ("generic", "brand")]
        return known[0].input if known else None

    def is_drug_name(self, value: str) -> bool:
        whole = " ".join(value.casefold().split())
        return any(" ".join(m.input.casefold().split()) == whole for m in self._find(value)
                   if getattr(m, "name", None))

    def scalar(self, name: str, value: Any) -> bool:
        if value is None:
            return False
        if name in ("age", "weight_kg"):
            low, high = _PLAUSIBLE[name]
            return low < value <= high and _number_in(self.text, float(value), name)
        if name == "sex":
            return bool(_SEX_WORDS[value].search(self.text))
        if name == "pregnant":
            return bool(_PREGNANT.search(self.text))
        if name == "diagnosis":
            # Not a "none"/"NKDA" and not a drug name: a small model fills the field anyhow.
            return (not _MARKUP.search(value) and not _EMPTY_WORDS.match(value)
                    and not self.is_drug_name(value) and _words_in(self.text, value))
        return False


def _proposal(p: PatientReading) -> dict[str, Any]:
    return {"age": p.age_years, "sex": p.sex, "pregnant": p.pregnant, "weight_kg": p.weight_kg,
            "diagnosis": (p.diagnosis or "").strip() or None}


def _same(name: str, a: Any, b: Any) -> bool:
    if name in ("age", "weight_kg"):
        return abs(float(a) - float(b)) < 0.5
    if name == "diagnosis":
        x, y = " ".join(str(a).casefold().split()), " ".join(str(b).casefold().split())
        return x == y or x in y or y in x
    return a == b


_LABEL = {"age": "age", "sex": "sex", "pregnant": "pregnancy status", "weight_kg": "weight",
          "diagnosis": "diagnosis", "allergies": "allergy", "current_medications":
          "current medication"}


def _note(c: Consultation, kind: str, **args: Any) -> str:
    """The English note (the API's text), its kind kept so a Korean reply says it in Korean."""
    text = note_text(kind, **args)
    c.note_kinds.setdefault(text, (kind, args))
    return text


def _merge_scalars(c: Consultation, proposed: dict[str, Any], g: _Grounding) -> list[ReaderNote]:
    notes: list[ReaderNote] = []
    for name, value in proposed.items():
        if value is None:
            continue
        label = _LABEL[name]
        ruled = c.values.get(name)
        grounded = g.scalar(name, value)
        if ruled is not None:
            if not _same(name, ruled, value) and grounded:
                notes.append(ReaderNote(
                    field=name, action="kept_rules", rules=ruled, llm=value,
                    message=_note(c, "reader_kept_rules", field=name, rules=ruled, llm=value)))
            continue
        if name in c.unknown and name != "diagnosis":
            continue     # stated as unknown: the clinician already answered
        if not grounded:
            notes.append(ReaderNote(field=name, action="ignored", llm=value,
                                    message=f"{label} proposed by the language model is not in "
                                            "the text"))
            continue
        if name == "pregnant" and value is False:
            notes.append(ReaderNote(field=name, action="ignored", llm=value,
                                    message="pregnancy status left open: 'not pregnant' from "
                                            "the language model alone would remove a check"))
            continue
        c.values[name] = value
        c.unknown.discard(name)
        notes.append(ReaderNote(field=name, action="filled", llm=value,
                                message=_note(c, "reader_filled", field=name, value=value)))
    return notes


def _covered(item: str, existing: list[str], ingredients_of: Ingredients) -> bool:
    key = item.casefold()
    mine = set(ingredients_of(item))
    for other in existing:
        low = other.casefold()
        if key == low or (mine and mine <= set(ingredients_of(other))):
            return True
    return False


def _merge_list(c: Consultation, name: str, items: list[str], g: _Grounding,
                ingredients_of: Ingredients) -> list[ReaderNote]:
    notes: list[ReaderNote] = []
    label = _LABEL[name]
    existing = list(c.values.get(name) or [])
    # A name the rules put in the other list stays there: "on furosemide" is not an allergy.
    other = "allergies" if name == "current_medications" else "current_medications"
    avoid = list(c.values.get(other) or [])
    for raw in items:
        item = g.drug(raw) if name == "current_medications" else g.item(raw)
        if item is not None and name == "allergies" and not is_allergen(g.finder, item):
            # A small model lists the reaction or the diagnosis ("hives", "herpes zoster") as
            # an allergy; only a drug or drug class can change what is prescribed.
            notes.append(ReaderNote(field=name, action="ignored", llm=raw,
                                    message=f"{label} proposed by the language model is not a "
                                            "drug or drug class"))
            continue
        if item is None:
            notes.append(ReaderNote(field=name, action="ignored", llm=raw,
                                    message=f"{label} proposed by the language model is not a "
                                            "known name written in the text"))
            continue
        if _covered(item, existing, ingredients_of):
            continue
        if _covered(item, avoid, ingredients_of):
            notes.append(ReaderNote(field=name, action="kept_rules", rules=other, llm=item,
                                    message=_note(c, "reader_kept_list", item=repr(item),
                                                  as_field="an_" + name,
                                                  kept_field="an_" + other)))
            continue
        existing.append(item)
        notes.append(ReaderNote(field=name, action="added", llm=item,
                                message=_note(c, "reader_added", field=name, item=repr(item))))
    if existing != list(c.values.get(name) or []):
        c.values[name] = existing
        c.unknown.discard(name)
    return notes


def merge_both(c: Consultation, reading: LLMReading, text: str, finder: DrugFinder,
               ingredients_of: Ingredients) -> list[ReaderNote]:
    """Adds the model's grounded reading to the rules' consultation (in place); the notes say
    what was added, filled, kept or ignored. Clinician-facing ones also go to `c.notes`."""
    if reading.fields is None:
        notes = [ReaderNote(field="*", action="unavailable",
                            message=_note(c, "reader_unavailable", status=reading.status))]
    else:
        g = _Grounding(text, finder)
        p = reading.fields
        notes = _merge_scalars(c, _proposal(p), g)
        notes += _merge_list(c, "allergies", p.allergies, g, ingredients_of)
        notes += _merge_list(c, "current_medications", p.current_medications, g, ingredients_of)
    for n in notes:
        if n.action != "ignored" and n.message not in c.notes:
            c.notes.append(n.message)
    return notes


def llm_only(rules: Consultation, reading: LLMReading, text: str,
             finder: DrugFinder) -> tuple[Consultation, list[ReaderNote]]:
    """The model's grounded reading alone (for comparing readers); the rules' screening stays."""
    c = Consultation(injections=list(rules.injections))
    if reading.fields is None:
        return c, [ReaderNote(field="*", action="unavailable",
                              message=f"language-model reader {reading.status}")]
    g = _Grounding(text, finder)
    p = reading.fields
    for name, value in _proposal(p).items():
        if value is not None and g.scalar(name, value):
            c.values[name] = value
    c.values["allergies"] = [i for i in (g.item(x) for x in p.allergies) if i]
    c.values["current_medications"] = [i for i in (g.drug(x) for x in p.current_medications)
                                       if i]
    return c, []


async def apply_reader(mode: ReaderMode, reader, folded, history: Sequence[dict],
                       finder: DrugFinder, ingredients_of: Ingredients) -> list[ReaderNote]:
    """Runs the model reader (`reader`: assistant.llm_reader.LLMReader) for `llm` or `both` and
    folds its reading into `folded.consultation`; nothing to do for `rules`."""
    if mode == "rules" or reader is None:
        return []
    turns = user_turns(history)
    reading = await reader.aread(turns)
    text = "\n".join(turns)
    if mode == "llm":
        folded.consultation, notes = llm_only(folded.consultation, reading, text, finder)
        return notes
    return merge_both(folded.consultation, reading, text, finder, ingredients_of)
