"""Labelled values ("Age: 60", "Allergies: none", "Diagnosis: ...", the prompt's own format) and
fields stated as unknown ("allergies unknown", "age, sex and weight not recorded")."""

from __future__ import annotations

import re

from assistant.extract import demographics
from assistant.extract.allergies import ALLERGEN_SYNONYMS, take_reactions
from assistant.extract.coding import names_condition
from assistant.extract.kidney import names_ckd_stage
from assistant.extract.medications import abbreviation
from assistant.extract.context import comorbidity_text, is_condition_word, read_clause_loose
from assistant.extract.text import DrugFinder, Findings, Text, is_known_drug, read_list, \
    sentence_end
from assistant.extract.vocabulary import NONE_WORDS, UNKNOWN_WORDS, unknownish

# Labels people (and recommend.prompt.user_message) put before a value.
LABELS: dict[str, str] = {
    "age": r"age",
    "sex": r"sex|gender",
    "pregnant": r"pregnant|pregnancy(?: status)?",
    "weight_kg": r"weight|wt|body weight",
    "allergies": r"(?:drug |known |medication )?allerg(?:y|ies|ens?|ic)",
    "current_medications": r"(?:current |home |regular |active )?(?:medications?|meds|medicines|"
                           r"drugs)(?: list)?",
    "diagnosis": r"(?:working |primary |main )?(?:diagnosis|diagnoses|dx|indication|condition|"
                 r"problem)",
    # Chart sections ("PMH:", "Problem list:") arrive here as "Comorbidities:" (context.py).
    "comorbidities": r"comorbidities|co-morbidities",
}
_LABEL_RE = re.compile(
    r"(?<![\w])(?P<label>" + "|".join(f"(?P<{k}>{v})" for k, v in LABELS.items()) + r")\s*[:=]\s*",
    re.I)
_NEXT_LABEL = re.compile(r"[.;]\s+[A-Za-z][\w ]{0,20}:")
PATIENT_HEADER_RE = re.compile(r"(?<![\w])patient\s*:\s*(?=$|\n)", re.I | re.M)

_UNKNOWN_FIELD_RES: list[tuple[str, re.Pattern]] = [
    (f, re.compile(p, re.I)) for f, p in [
        ("allergies", rf"\b(?:drug )?allerg(?:y|ies|ic)(?: status| history| hx| list)?\s*"
                      rf"(?:is |are |:|-)?\s*{UNKNOWN_WORDS}"),
        ("allergies", r"\b(?:unknown|unclear|undocumented|unrecorded)\s+(?:drug\s+)?allerg(?:y|ies)"
                      r"(?:\s+status)?\b"),
        ("allergies", r"\b(?:no|without) (?:known )?(?:record|information|info|documentation) "
                      r"(?:of|on|about) allerg(?:y|ies)\b"),
        ("current_medications", rf"\b(?:current |home |regular )?(?:meds|medications?|medication list|"
                                rf"med list)\s*(?:is |are |:|-)?\s*{UNKNOWN_WORDS}"),
        ("current_medications", r"\b(?:unknown|unclear|undocumented)\s+(?:current\s+)?"
                                r"(?:meds|medications?)\b"),
        ("diagnosis", rf"\b(?:diagnosis|dx)\s*(?:is |:|-)?\s*(?:still )?{UNKNOWN_WORDS}"),
        ("diagnosis", r"\b(?:unknown|unclear) (?:diagnosis|dx)\b"),
        ("age", rf"\bage\s*(?:is |:|-)?\s*{UNKNOWN_WORDS}"),
        ("age", r"\b(?:unknown|unclear) age\b"),
        ("sex", rf"\b(?:sex|gender)\s*(?:is |:|-)?\s*{UNKNOWN_WORDS}"),
        ("sex", r"\b(?:unknown|unclear) (?:sex|gender)\b"),
        ("weight_kg", rf"\bweight\s*(?:is |:|-)?\s*{UNKNOWN_WORDS}"),
        ("weight_kg", r"\b(?:unknown|unclear) weight\b"),
        ("pregnant", rf"\bpregnan(?:cy|t)(?: status| test)?\s*(?:is |:|-)?\s*(?:{UNKNOWN_WORDS}|"
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
                              rf"(?:are |is |all |both )*(?::\s*)?{UNKNOWN_WORDS}", re.I)


_SENTENCE_AFTER_DX = re.compile(r"(?<!\b[A-Za-z])(?<!\bst)(?<!\bvs)(?<!\bdr)(?<!\bno)\.(?=\s+\S)", re.I)


def _value_end(t: Text, name: str, start: int, nxt: int) -> int:
    if name in demographics.PARSERS:
        # One value: "Age: 60, male, UTI" must leave "male, UTI" for the other readers.
        end = sentence_end(t.s, start, nxt)
        comma = t.s.find(",", start, end)
        return comma if comma >= 0 else end
    if name != "diagnosis":
        return sentence_end(t.s, start, nxt)
    # A diagnosis runs to the end of its line (ICD titles hold commas and periods) ...
    nl = t.s.find("\n", start, nxt)
    end = nl if nl >= 0 else nxt
    # ... but never past a semicolon: no ICD title holds one, and what follows is another fact
    # ("Diagnosis: hypertension; in every rationale field copy ...").
    semi = t.s.find(";", start, end)
    end = semi if semi >= 0 else end
    # ... nor past the end of a sentence ("Diagnosis: acne. 30F, HTN, asthma"): no ICD-10-CM
    # title holds a period followed by a space; an abbreviation ("St. John's") does.
    stop = _SENTENCE_AFTER_DX.search(t.s, start, end)
    end = stop.start() if stop else end
    # ... or where another "Something:" label starts a new sentence.
    other = _NEXT_LABEL.search(t.s, start, end)
    return other.start() + 1 if other else end


def read_labels(t: Text, f: Findings, finder: DrugFinder | None = None) -> list[tuple[int, int]]:
    """Labelled values; returns the diagnosis segments, read last (diagnosis.read_leftover)."""
    found = list(_LABEL_RE.finditer(t.s))
    diagnosis_segments: list[tuple[int, int]] = []
    for i, m in enumerate(found):
        name = next(k for k in LABELS if m.group(k))
        nxt = found[i + 1].start() if i + 1 < len(found) else len(t.s)
        start = m.end()
        end = _value_end(t, name, start, nxt)
        value = t.s[start:end]
        t.take(m.start(), m.end())
        if name == "diagnosis":
            diagnosis_segments.append((start, end))
            if unknownish(value):
                t.take(start, end)
            continue
        if unknownish(value):
            f.unknown.add(name)
            f.values.pop(name, None)
            t.take(start, end)
            continue
        if name == "comorbidities":
            read_comorbidity_list(t, f, start, sentence_end(t.s, start, nxt))
            continue
        if name in ("allergies", "current_medications"):
            if re.match(rf"^\s*{NONE_WORDS}\s*$", value, re.I) or re.match(r"^\s*none\b", value, re.I):
                f.values[name] = []
                t.take(start, end)
                continue
            is_drug = (lambda x: is_known_drug(finder, x)) if finder else (lambda x: False)
            items, item_end = read_list(t, start, end, lambda _item: True, products=(
                is_drug if name == "current_medications" else None))
            if items:
                if name == "current_medications":    # "Meds: GTN prn, ASA 81"
                    items = [abbreviation(i) or i for i in items]
                if name == "allergies":     # "Allergies: PCN (hives)" -> penicillin, and a note
                    items = [ALLERGEN_SYNONYMS.get(i.lower(), i) for i in items]
                    item_end = take_reactions(t, f, start, item_end)
                f.values.setdefault(name, [])
                f.add_items(name, items)
                t.take(start, item_end)
            continue
        parsed = demographics.PARSERS[name](value)
        if parsed is not None:
            demographics.record(f, name, parsed, value, replace=True)
            t.take(start, end)
    return diagnosis_segments


# Where a history list ends: another fact starts ("PMH: HTN, AF, on warfarin, NKDA").
_COMORBIDITY_STOP = re.compile(
    r"^(?:on|takes?|taking|using|meds?|medications?|current|allerg\w*|nkda|nka|nkma|no known|"
    r"no (?:drug |medication )?allerg\w*|not (?:allergic|on|taking|currently)|"
    r"no (?:regular |current |other )?(?:meds?|medications?|medicines|drugs)|nil meds|stopped|"
    r"was on|previously on|c/o|complain\w*|presents?|presenting|here|now|new|today|"
    r"dx|diagnos\w*|needs?|wants?|pregnant|not pregnant|\d)\b", re.I)
# "AF on warfarin": the condition is history, the drug is left for the medication reader.
_ON_DRUG = re.compile(r"\s+(?:on|taking|takes|using|maintained on|treated with)\s+", re.I)
_ITEM_BREAK = re.compile(r"\s*(?:,|/|\+|&|\band\b)\s*", re.I)


def read_comorbidity_list(t: Text, f: Findings, start: int, end: int) -> None:
    """"PMH: HTN, HLD, CKD 3" -> comorbidities; "none" -> []; negated or family items skipped.
    The list ends where another fact starts; a drug named with its condition is left unread, and
    after it only conditions continue the list ("AF on warfarin, COPD")."""
    value = t.s[start:end]
    f.values.setdefault("comorbidities", [])
    if re.match(rf"^\s*{NONE_WORDS}\s*$", value, re.I):
        t.take(start, end)
        return
    items = []
    pos = start
    after_drug = False
    bounds = [m.span() for m in _ITEM_BREAK.finditer(t.s, start, end)] + [(end, end)]
    for brk_start, brk_end in bounds:
        a, b = pos, brk_start
        pos = brk_end
        piece = t.s[a:b]
        if not piece.strip():
            continue
        if _COMORBIDITY_STOP.match(piece.strip()):
            break
        if after_drug and not names_condition(piece):
            break    # "AF on warfarin, digoxin": the drug list goes on; left for the drug readers
        if names_ckd_stage(piece):
            continue    # "PMH: HTN, CKD 3a": left for read_kidney, which records the stage too
        on = _ON_DRUG.search(piece)
        if on:
            b = a + on.start()
            piece = t.s[a:b]
        ctx = read_clause_loose(piece)
        term = re.sub(r"\s+", " ", ctx.term).strip(" .:-()")
        if term and is_condition_word(term) and not (ctx.negated or ctx.family or ctx.hypothetical):
            items.append(comorbidity_text(term))
        t.take(a, b if on else brk_end)
        # "PMH: AF on warfarin, COPD": the list goes on after the drug, with conditions only.
        after_drug = after_drug or bool(on)
    f.add_items("comorbidities", items)


# "no comorbidities", "nil PMH", "no past medical history": the list is stated empty ("no history
# of X" denies one condition and is left for the diagnosis reader).
_NO_COMORBIDITIES = re.compile(
    r"\b(?:no|nil|without|denies(?: any)?)\s+(?:(?:known|significant|other|relevant|notable|"
    r"major|chronic|previous|prior|past)\s+)*(?:comorbidit(?:y|ies)|co-?morbidit(?:y|ies)|pmhx?|"
    r"past medical history|medical history|(?:medical|health) (?:problems|conditions|issues)|"
    r"chronic (?:conditions|illness(?:es)?|diseases?))\b(?!\s+(?:of|for)\b)|"
    r"\b(?:pmhx?|comorbidities)\s*(?:[:\-]\s*)?(?:nil|none|nad)\b", re.I)


def read_unknowns(t: Text, f: Findings) -> None:
    for m in t.matches(_NO_COMORBIDITIES):
        f.values.setdefault("comorbidities", [])
        t.take(m.start(), m.end())
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
