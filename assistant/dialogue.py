"""The dialogue policy: what a conversation has established, and what is still required.

The API is stateless, so the consultation is re-derived from the whole message history on
every turn: each user turn is screened and extracted, then folded in order. The only thing read
back from the assistant's own turns is which fields it asked for (the "Still needed:" line),
so a bare "none" or "unknown" answers exactly those questions.

Required before recommending (docs/formats.md#serving-api): the diagnosis; age; sex; pregnancy when
relevant (female aged 12 to under 50 by default, AssistantConfig.pregnancy_ask_ages, or of unknown age;
"postmenopausal" answers it); allergies ("none" accepted). A field stated as
unknown counts as answered, except the diagnosis, without which there is nothing to recommend for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rxassist.cases import Diagnosis, Patient
from rxassist.patient_text import read_diagnosis
from recommend.schemas import CodedReading, DiagnosisRecord

from assistant.messages import join_parts
from assistant.shorthand import expand_abbreviations
from assistant.extract.coding import code_diagnosis
from assistant.extract import Extractor, Findings
from assistant.extract.context import comorbidity_text
from assistant.screen import Screen, screen

PATIENT_FIELDS = ("age", "sex", "pregnant", "weight_kg", "allergies", "current_medications",
                  "comorbidities")
LIST_FIELDS = ("allergies", "current_medications", "comorbidities")
# A woman aged from 12 up to (not including) 50 is asked whether she is pregnant (the median
# age at menopause is about 51); AssistantConfig.pregnancy_ask_ages overrides.
CHILDBEARING_AGE = (12, 50)
# Optional fields: used when stated, never asked for nor listed as "could not check".
OPTIONAL_FIELDS = ("comorbidities", "egfr", "crcl", "ckd_stage", "dialysis", "breastfeeding")

# How each required field is asked for; the phrases are also how asked fields are read back.
QUESTIONS: dict[str, str] = {
    "diagnosis": "the diagnosis",
    "age": "age",
    "sex": "sex",
    "pregnant": "pregnancy status",
    "allergies": 'drug allergies (or "none")',
}
STILL_NEEDED = "Still needed:"
_STILL_NEEDED_RE = re.compile(rf"^\W*{re.escape(STILL_NEEDED)}\W*(.+)$", re.M)


@dataclass
class Consultation:
    values: dict[str, Any] = field(default_factory=dict)   # patient fields + "diagnosis"
    unknown: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    note_kinds: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # as Findings
    injections: list[str] = field(default_factory=list)
    # Fields last stated with a value no patient can have, until a plausible one replaces it.
    rejected: dict[str, str] = field(default_factory=dict)
    childbearing_age: tuple[float, float] = CHILDBEARING_AGE
    # The diagnosis names several conditions with no cue to the question ("HTN, T2DM"): which
    # one the prescription is for is asked, not guessed.
    diagnosis_choices: list[str] = field(default_factory=list)

    def pregnancy_relevant(self) -> bool:
        if self.values.get("sex") != "female":
            return False
        age = self.values.get("age")
        low, high = self.childbearing_age
        return age is None or low <= age < high

    def required(self) -> list[str]:
        fields = ["diagnosis", "age", "sex"]
        if self.pregnancy_relevant():
            fields.append("pregnant")
        fields.append("allergies")
        return fields

    def missing(self) -> list[str]:
        return [f for f in self.required()
                if (f not in self.values and (f == "diagnosis" or f not in self.unknown))
                or (f == "diagnosis" and self.diagnosis_choices)]

    def patient(self) -> Patient:
        data = {k: self.values[k] for k in (*PATIENT_FIELDS, *OPTIONAL_FIELDS) if k in self.values}
        if self.values.get("sex") == "male":
            data["pregnant"] = None
        return Patient.model_validate(data)

    def _coded(self, text: str):
        return code_diagnosis(text, self.values.get("pregnant"), self.values.get("breastfeeding"))

    def diagnosis(self) -> Diagnosis | None:
        text = self.values.get("diagnosis")
        if not text:
            return None
        # A code written the way case files print it ("(ICD-10-CM I10)") is read as a code.
        dx = read_diagnosis(text)
        if dx.code:
            return dx.model_copy(update={"text": expand_abbreviations(dx.text)})
        coded = self._coded(text)
        if coded is None or coded.index_code is None:
            return Diagnosis(text=expand_abbreviations(text))
        return Diagnosis(text=expand_abbreviations(text), code=coded.index_code,
                         system="ICD-10-CM")

    def diagnosis_record(self) -> DiagnosisRecord | None:
        """The diagnosis for the API's `rxassist` field: what the index was sent, plus the
        reading and its ICD-10-CM code (shown even where the index reads the text)."""
        dx = self.diagnosis()
        if dx is None:
            return None
        coded = self._coded(self.values["diagnosis"])
        return DiagnosisRecord(
            **dx.model_dump(), reading=self.diagnosis_reading(),
            icd10cm=CodedReading(code=coded.code, title=coded.title, how=coded.how)
            if coded else None)

    def diagnosis_reading(self) -> str | None:
        """How the diagnosis was read, for the clinician: "cellulitis left shin -> cellulitis of
        left lower limb (L03.116)"; the text alone where no ICD-10-CM code fits."""
        text = self.values.get("diagnosis")
        if not text:
            return None
        coded = self._coded(text)
        return f"{text} -> {coded.reading}" if coded else expand_abbreviations(text)

    def unknown_fields(self) -> list[str]:
        """Fields the recommendation could not take into account (stated unknown or never given)."""
        out = []
        for f in PATIENT_FIELDS:
            if f in OPTIONAL_FIELDS or (f == "pregnant" and not self.pregnancy_relevant()):
                continue
            if f not in self.values:
                out.append(f)
        return out


@dataclass
class Folded:
    consultation: Consultation
    last: Screen                      # the latest user turn, screened
    last_findings: Findings | None    # None when that turn was refused before extraction


def asked_fields(assistant_text: str) -> set[str]:
    m = _STILL_NEEDED_RE.search(assistant_text or "")
    if not m:
        from assistant.labels import asked_fields as asked_in_any_language
        return asked_in_any_language(assistant_text)
    line = m.group(1).lower()
    return {f for f, phrase in QUESTIONS.items() if phrase.split(" (")[0] in line}


def _same_condition(a: str, b: str) -> bool:
    """"T2DM" and "the diabetes": the same words, or the same ICD-10-CM category."""
    if a.lower() in b.lower() or b.lower() in a.lower():
        return True
    ca, cb = code_diagnosis(a), code_diagnosis(b)
    return bool(ca and cb and ca.code[:3] == cb.code[:3])


def _merge(c: Consultation, f: Findings, asked: set[str]) -> None:
    for name in f.unknown:
        if name in LIST_FIELDS and c.values.get(name):
            continue   # "other allergies unknown" keeps the allergies already named
        c.values.pop(name, None)
        c.unknown.add(name)
    for name, value in f.values.items():
        if name == "diagnosis":
            continue
        if name in LIST_FIELDS and not f.correction:
            existing = c.values.get(name)
            if existing and value == []:
                continue   # a stray "none" never erases a named allergy; "Correction:" does
            merged = list(existing or []) + [v for v in value if v not in (existing or [])]
            c.values[name] = merged
        else:
            c.values[name] = value
        c.unknown.discard(name)
    # The diagnosis: stated ones replace; loose clauses fill it only when it is wanted.
    if c.diagnosis_choices and "diagnosis" in asked and ("diagnosis" in f.values
                                                         or f.diagnosis_candidates):
        # "HTN, T2DM" then "the diabetes": the conditions not chosen are background.
        chosen = f.values.get("diagnosis") or ", ".join(f.diagnosis_candidates)
        others = [comorbidity_text(x) for x in c.diagnosis_choices
                  if not _same_condition(x, chosen)]
        existing = c.values.get("comorbidities") or []
        c.values["comorbidities"] = existing + [x for x in others if x not in existing]
    if "diagnosis" in f.values:
        c.values["diagnosis"] = f.values["diagnosis"]
        c.unknown.discard("diagnosis")
        c.diagnosis_choices = []
    elif f.diagnosis_candidates and ("diagnosis" not in c.values or "diagnosis" in asked
                                     or f.correction):
        c.values["diagnosis"] = ", ".join(f.diagnosis_candidates)
        c.unknown.discard("diagnosis")
        c.diagnosis_choices = list(f.diagnosis_choices)
    # Bare answers ("none", "unknown", "yes", "45") answer the questions just asked.
    open_asked = [a for a in asked if a not in f.values and a not in f.unknown]
    if f.bare_none and f.bare_no and {"allergies", "pregnant"} <= set(open_asked):
        # A lone "no" to "pregnancy status, drug allergies?" answers neither safely; ask again.
        open_asked = [a for a in open_asked if a not in ("allergies", "pregnant")]
    if f.bare_none and "allergies" in open_asked:
        c.values["allergies"] = []
        c.unknown.discard("allergies")
    if f.bare_number is not None and "age" in open_asked and 0 <= f.bare_number <= 125:
        c.values["age"] = f.bare_number
        c.unknown.discard("age")
    if (f.bare_yes or f.bare_no) and "pregnant" in open_asked:
        c.values["pregnant"] = bool(f.bare_yes)
        c.unknown.discard("pregnant")
    if f.bare_unknown or f.proceed:
        for a in open_asked:
            if a != "diagnosis" and a not in c.values:
                c.unknown.add(a)
    for note in f.notes:
        if note not in c.notes:
            c.notes.append(note)
        if note in f.note_kinds:
            c.note_kinds.setdefault(note, f.note_kinds[note])
    for name in list(c.rejected):
        if name in c.values:
            del c.rejected[name]
    for name, said in f.rejected.items():
        if name not in f.values:
            c.rejected[name] = said


def _extract_answer(extractor: Extractor, text: str, asked: set[str]) -> Findings:
    """Extract a turn, reading a bare list as allergies when that is what was just asked:
    "Still needed: drug allergies" -> "penicillin (rash)" is an allergy, not a medication."""
    f = extractor.extract(text)
    answered = ("allergies" in f.values or "allergies" in f.unknown or f.bare_none
                or f.bare_unknown or f.proceed)
    if ("allergies" in asked and "diagnosis" not in asked and not answered
            and (f.diagnosis_candidates or f.values.get("current_medications"))):
        as_allergies = extractor.extract("Allergies: " + text)
        if as_allergies.values.get("allergies"):
            return as_allergies
    return f


def fold(messages: list[dict], extractor: Extractor, *,
         childbearing_age: tuple[float, float] = CHILDBEARING_AGE) -> Folded:
    """Replay the history. Refused user turns contribute nothing to the consultation."""
    c = Consultation(childbearing_age=tuple(childbearing_age))
    asked: set[str] = set()
    last: Screen | None = None
    last_findings: Findings | None = None
    for msg in messages:
        role = msg.get("role")
        text = join_parts(msg.get("content"))
        if role == "assistant":
            asked = asked_fields(text)
            continue
        if role != "user":
            continue   # client system prompts never steer extraction or the model
        last = screen(text)
        last_findings = None
        if last.harmful:
            asked = set()
            continue
        findings = _extract_answer(extractor, last.text, asked)
        last_findings = findings
        if last.off_topic and not findings.patient_facts:
            asked = set()
            continue
        _merge(c, findings, asked)
        c.injections += last.injections
        asked = set()
    assert last is not None, "fold() needs at least one user message"
    return Folded(c, last, last_findings)
