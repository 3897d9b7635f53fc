"""Allergies: "allergic to sulfa, penicillin", "sulfa allergy", "NKDA", "anaphylaxis after
amoxicillin", "can't take codeine", "amoxicillin gave me a rash", "intolerant of statins".

Biased toward safety: an allergy stated beside "NKDA otherwise" is still recorded."""

from __future__ import annotations

import re

from assistant.extract.text import DrugFinder, Findings, Text, is_known_drug, read_list, \
    sentence_end, split_drugs
from assistant.extract.vocabulary import alternation, vocabulary

_VOCAB = vocabulary()
# Shorthand for allergens people write.
ALLERGEN_SYNONYMS: dict[str, str] = _VOCAB["allergen_synonyms"]
# Allergen classes people name that are not single drugs; after the first item of an allergy
# list, an item must be one of these or a drug the lexicon knows ("allergic to sulfa, diabetic"
# must not turn "diabetic" into an allergen).
ALLERGEN_CLASSES = frozenset(_VOCAB["allergen_classes"])
_NOT_ALLERGEN_WORDS = frozenset(_VOCAB["not_allergen_words"])
_REACTION = "|".join(re.escape(w) for w in sorted(_VOCAB["allergic_reactions"], key=len,
                                                  reverse=True))

# A cue whose list may start with any word ("allergic to X").
_ALLERGY_CUE = re.compile(rf"\b(?:{alternation('allergy_words_regex')})\s+(?:reactions?\s+)?"
                          r"(?:to|with)\s+", re.I)
# Cues that also read as ordinary speech ("can't take tablets", "rash after the beach"): the
# first item must be an allergen class or a known drug.
_ALLERGY_CUE_STRICT = re.compile(
    rf"\b(?:(?:{_REACTION})\s+(?:after|from|with|on|to)|intoleran\w*\s+of|"
    rf"(?:{alternation('cannot_take_regex')}) (?:take|tolerate|have))\s+"
    r"(?:(?:a|an|the|any|her|his|their|my)\s+)?", re.I)
_ALLERGY_SUFFIX = re.compile(r"\b([a-z][a-z\-]{2,})(?:\s+(?:drugs?|antibiotics?|class))?[\s-]+"
                             r"(?:allergy|allergic|allergies|hypersensitivity)\b", re.I)
# "amoxicillin gave me a rash", "codeine causes hives".
_CAUSED_REACTION = re.compile(
    rf"\b([a-z][a-z\-]{{2,}}(?: [a-z][a-z\-]{{2,}})?)\s+(?:{alternation('cause_verbs')})\s+"
    r"(?:(?:me|her|him|them|us)\s+)?(?:(?:a|an|bad|severe|some)\s+)*"
    rf"(?:{_REACTION})\b", re.I)
_NO_ALLERGY = re.compile(rf"\b(?:{alternation('no_allergy_phrases_regex')})\b", re.I)


def read_allergies(t: Text, f: Findings, finder: DrugFinder) -> None:
    for m in t.matches(_NO_ALLERGY):
        f.values["allergies"] = []
        f.unknown.discard("allergies")
        t.take(m.start(), m.end())

    def allergen_like(item: str) -> bool:
        return item.lower() in ALLERGEN_CLASSES or is_known_drug(finder, item)

    def named(item: str) -> list[str]:
        """"cephalexin last year" -> "cephalexin": only the drug of a loosely cued item."""
        if item.lower() in ALLERGEN_CLASSES:
            return [item]
        return [d.input for d in finder(item) if getattr(d, "name", None)] or [item]

    found: list[str] = []
    for cue, accept in ((_ALLERGY_CUE, lambda _item: True), (_ALLERGY_CUE_STRICT, allergen_like)):
        for m in t.matches(cue):
            end = sentence_end(t.s, m.end())
            items, item_end = read_list(t, m.end(), end, accept, allergen_like)
            if items:
                found += (split_drugs(items, finder) if cue is _ALLERGY_CUE
                          else [n for item in items for n in named(item)])
                t.take(m.start(), item_end)
    for m in t.matches(_CAUSED_REACTION):
        words = m.group(1).split()
        # "then amoxicillin gave ...": the drug is the last word (or two) before the verb.
        for n in (len(words), 1):
            name = " ".join(words[-n:])
            if allergen_like(name):
                found.append(name)
                t.take(m.start(1) + len(m.group(1)) - len(name), m.end())
                break
    for m in t.matches(_ALLERGY_SUFFIX):
        word = m.group(1)
        if word.lower() in _NOT_ALLERGEN_WORDS:
            continue
        found.append(word)
        t.take(m.start(), m.end())
    found = [ALLERGEN_SYNONYMS.get(a.lower(), a) for a in found]
    if found:
        f.add_items("allergies", found)
        f.unknown.discard("allergies")
