"""The diagnosis: labelled segments, then what no other reader explained, split into clauses,
minus requests, questions, fillers and lead-in cues ("presents with", "diagnosed with").
Short answers ("none", "unknown", "yes", "72", "proceed") are read here too."""

from __future__ import annotations

import re

from assistant.extract.context import comorbidity_text, is_condition_word, read_clause_loose
from assistant.extract.text import Findings, Text
from assistant.extract.vocabulary import (NO_RE, NONE_RE, NUMBER_RE, PROCEED_RE, UNKNOWN_RE,
                                          YES_RE, alternation, vocabulary)

# What leads into a diagnosis (stripped before the rest is taken as the diagnosis). Those in
# EXPLICIT mark the text as a stated diagnosis, which may replace an earlier one.
DIAGNOSIS_CUES: tuple[str, ...] = tuple(vocabulary()["diagnosis_cues_regex"])
EXPLICIT_DIAGNOSIS = re.compile(r"^\s*(?:diagnosed with|diagnosis of|dx of|dx|working diagnosis)\b",
                                re.I)
_LEAD_CUE_RE = re.compile(r"^(?:" + "|".join(
    c for c in DIAGNOSIS_CUES if c not in vocabulary()["diagnosis_qualifiers"])
    + r")(?:\b|(?<=/))[\s:,-]*", re.I)
# Negative findings ("no fever", "not sexually active") are context, not the diagnosis.
# ("non-purulent cellulitis" is one term: "non" is not a negation cue, see context.py.)
_NEGATIVE_CLAUSE = re.compile(r"^(?:no|not|denies|without|negative for)\b", re.I)
# Background, not the question: "history of MI, hypertension" asks about hypertension. An
# admission reason is background only beside a stated need ("admitted with heart failure, needs
# VTE prophylaxis"); alone ("admitted with heart failure, fluid overloaded") it is the question.
_HISTORY_CLAUSE = re.compile(r"^(?:(?:a\s+)?(?:history|hx|pmh|background)\s+of|known)\b", re.I)
_ADMISSION_CLAUSE = re.compile(
    r"^(?:admitted|hospitali[sz]ed|presenting|presented)\s+(?:with|for)\b", re.I)
_COMPLAINT = re.compile(r"^\s*(?:c/o|complain(?:s|ing)? of)\b", re.I)
_NEED_CLAUSE = re.compile(r"^(?:needs?|requires?|wants?|for)\b", re.I)
_FILLER_RE = re.compile(rf"^(?:{alternation('filler_phrases_regex')})\b[\s!.]*$", re.I)
_QUESTION_START = re.compile(rf"^(?:{alternation('question_words')})\b", re.I)
_TRAILING_WORD = re.compile(r"(?:\s+|^)(?:please|thanks|thank you|today|now|in|a|an|the|to|for|"
                            r"with|of|and|at|on|who|is)\s*$", re.I)

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


def read_requests(t: Text) -> None:
    for m in t.matches(_REQUEST_RE):
        t.take(m.start(), m.end())


def read_questions(t: Text) -> None:
    for m in t.matches(_QUESTION_CLAUSE):
        t.take(m.start(), m.end())


def _short_answer(raw: str, f: Findings) -> bool:
    """A clause that only answers a question; sets the matching flag."""
    if PROCEED_RE.match(raw):
        f.proceed = True
    elif NONE_RE.match(raw):
        f.bare_none = True
        # A bare "no" may also answer "pregnant?"; dialogue decides which was asked.
        f.bare_no = f.bare_no or bool(NO_RE.match(raw))
    elif UNKNOWN_RE.match(raw):
        f.bare_unknown = True
    elif YES_RE.match(raw):
        f.bare_yes = True
    elif NO_RE.match(raw):
        f.bare_no = True
    elif num := NUMBER_RE.match(raw):
        f.bare_number = float(num.group(1))
    else:
        return False
    return True


def read_leftover(t: Text, f: Findings, dx_segments: list[tuple[int, int]]) -> None:
    for a, b in dx_segments:
        pieces = [p for p in (clean_piece(x) for x in re.split(r"\x00+", t.leftover(a, b))) if p]
        text = ", ".join(pieces)
        if text:
            f.values["diagnosis"] = text
            f.diagnosis_explicit = True
        t.take(a, b)
    need_stated = False
    focus: list[str] = []
    history: list[str] = []
    complaints: list[str] = []
    for piece in re.split(r"[\x00,;\n]+|\.(?!\d)|!|\s+with\s+(?=(?:a\s+)?(?:prior|previous|"
                          r"history|h/o|hx|known|background|past)\b)", t.leftover()):
        raw = piece.strip()
        need_stated = need_stated or bool(_NEED_CLAUSE.match(raw))
        if not raw or _short_answer(raw, f):
            continue
        # Context per concept (context.py): negated, family and hypothetical clauses are notes,
        # past ones comorbidities, "now with" / "new" ones the question.
        ctx = read_clause_loose(raw)
        cleaned = clean_piece(ctx.term if not EXPLICIT_DIAGNOSIS.match(raw) else raw)
        if not cleaned or not is_condition_word(cleaned):
            continue
        if ctx.negated or ctx.family or ctx.hypothetical or _NEGATIVE_CLAUSE.match(cleaned):
            f.notes.append(clean_piece(raw) or cleaned)
        elif EXPLICIT_DIAGNOSIS.match(raw):
            f.values["diagnosis"] = cleaned if "diagnosis" not in f.values else (
                f.values["diagnosis"] + ", " + cleaned)
            f.diagnosis_explicit = True
        elif ctx.historical:
            history += [h for h in re.split(r"\s+(?:and|&|\+)\s+", cleaned) if h]
        else:
            if _COMPLAINT.match(raw):
                complaints.append(cleaned)
            if ctx.focus:
                focus.append(cleaned)
            f.diagnosis_candidates.append(cleaned)
    background = [p for p in f.diagnosis_candidates if _HISTORY_CLAUSE.match(p)
                  or (need_stated and _ADMISSION_CLAUSE.match(p))]
    if background and len(background) < len(f.diagnosis_candidates):
        f.diagnosis_candidates = [p for p in f.diagnosis_candidates if p not in background]
        f.notes.extend(background)
    if complaints and len(complaints) < len(f.diagnosis_candidates):
        # "c/o dysuria x2d, uncomplicated UTI": the named condition is the question, the
        # complaint its symptom.
        f.diagnosis_candidates = [p for p in f.diagnosis_candidates if p not in complaints]
        focus = [p for p in focus if p not in complaints]
        f.notes.extend(complaints)
    if focus and len(focus) < len(f.diagnosis_candidates):
        # "HTN, DM2, new gout flare": the unmarked conditions are background to the question.
        history += [p for p in f.diagnosis_candidates if p not in focus]
        f.diagnosis_candidates = focus
    if history and not f.diagnosis_candidates and "diagnosis" not in f.values and not dx_segments:
        f.diagnosis_candidates = history     # only history given: that is what is asked about
    elif history:
        f.add_items("comorbidities", [comorbidity_text(h) for h in history])


def clean_piece(piece: str) -> str:
    s = re.sub(r"\s+", " ", piece.replace("\x00", " ")).strip(" .:;,-'\"")
    for _ in range(6):
        new = _LEAD_CUE_RE.sub("", s).strip(" .:-,")
        if new == s:
            break
        s = new
    for _ in range(4):
        new = _TRAILING_WORD.sub("", s).strip(" .:-,?!")
        if new == s:
            break
        s = new
    if not re.search(r"[A-Za-z]{2,}", s) or _FILLER_RE.match(s) or _QUESTION_START.match(s):
        return ""
    if len(s) > 200:
        s = s[:200].rsplit(" ", 1)[0]
    return s
