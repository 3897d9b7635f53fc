"""Allergies: "allergic to sulfa, penicillin", "sulfa allergy", "NKDA", "anaphylaxis after
amoxicillin", "can't take codeine", "amoxicillin gave me a rash", "intolerant of statins".

Biased toward safety: an allergy stated beside "NKDA otherwise" is still recorded."""

from __future__ import annotations

import re
from typing import Callable

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


def _compiled(table: tuple[tuple[str, bool], ...]) -> tuple[tuple[re.Pattern, bool], ...]:
    return tuple((re.compile(pattern, re.I), strict) for pattern, strict in table)


# Cues followed by a list of allergens, each with whether the first item must already read as an
# allergen: "allergic to X" takes any first word; cues that also read as ordinary speech ("can't
# take tablets", "rash after the beach") need an allergen class or a known drug.
_LIST_CUES = _compiled((
    (rf"\b(?:{alternation('allergy_words_regex')})\s+(?:reactions?\s+)?(?:to|with)\s+", False),
    # "reaction to" needs a known drug or class: "Reaction to severe stress" is a diagnosis.
    (rf"\b(?:(?:{_REACTION}|reacts?)\s+(?:after|from|with|w/|on|to)|intoleran\w*\s+of|"
     rf"(?:{alternation('cannot_take_regex')}) (?:take|tolerate|have))\s+"
     r"(?:(?:a|an|the|any|her|his|their|my)\s+)?", True),
))
# A drug (group 1) before the reaction it caused: "amoxicillin gave me a rash", "codeine causes
# hives" (the last word or two before the verb must read as an allergen), then "sulfa allergy"
# (any word not on the not-an-allergen list).
_DRUG_THEN_REACTION = _compiled((
    (rf"\b([a-z][a-z\-]{{2,}}(?: [a-z][a-z\-]{{2,}})?)\s+(?:{alternation('cause_verbs')})\s+"
     r"(?:(?:me|her|him|them|us)\s+)?(?:(?:a|an|bad|severe|some)\s+)*"
     rf"(?:{_REACTION})\b", True),
    (r"\b([a-z][a-z\-]{2,})(?:\s+(?:drugs?|antibiotics?|class))?[\s-]+"
     r"(?:allergy|allergic|allergies|hypersensitivity|intolerance)\b", False),
))
# "sulfa -> rash", "PCN => hives", "codeine allergy → vomiting": the arrow clinicians type for
# "caused". After a drug the arrow also records an intolerance (GI upset, SJS): never offered again
# without the clinician seeing it.
_ARROW_REACTION = re.compile(
    rf"\b([a-z][a-z\-]{{2,}}(?: (?!allerg|intoleran)[a-z][a-z\-]{{2,}})?)"
    rf"(?:\s+(?:allerg(?:y|ic)|intolerance))?"
    rf"\s*(?:-+>|\u2192|=+>)\s*(?:(?:a|an|bad|severe|some|mild)\s+)*"
    rf"({_REACTION}|nausea|vomiting|n/v|gi upset|diarrh(?:o)?ea|sjs|stevens-johnson syndrome|"
    rf"bronchospasm|wheez\w*|sob|throat swelling|lip swelling|facial swelling)\b", re.I)
_NO_ALLERGY = re.compile(rf"\b(?:{alternation('no_allergy_phrases_regex')})\b", re.I)
# One allergy ruled out: "not allergic to penicillin", "no allergy to sulfa, codeine" (a list
# follows) and "no penicillin allergy", "denies pen allergy" (one or two words before it).
_NOT_ALLERGIC_TO = re.compile(
    r"\b(?:not|isn'?t|is not|never been|no|nil|denies(?:\s+any)?)\s+(?:known\s+)?"
    r"(?:allergic|allerg(?:y|ies)|hypersensitiv\w*)\s+(?:to|with)\s+", re.I)
_NO_NAMED_ALLERGY = re.compile(
    r"\b(?:no|nil|denies(?:\s+any)?)\s+(?:known\s+)?([a-z][\w-]*(?:\s+[a-z][\w-]*)?)\s+"
    r"(?:allerg(?:y|ies)|hypersensitivity)\b", re.I)


# "pen allergy (hives)", "PCN (anaphylaxis), codeine (nausea)": the reaction in parentheses
# belongs to the allergen before it.
_ITEM_REACTION = re.compile(r"([A-Za-z][\w\- ]*?)\s*(?:allerg\w*|intoleran\w*)?\s*\(([^()]{1,60})\)")
_REACTION_AFTER = re.compile(r"[ \t]*\(([^()]{1,60})\)")
# "PCN allergy - anaphylaxis": a known reaction word after a dash belongs to the allergy too.
_DASH_REACTION = re.compile(r"[ \t]*[-\u2013:][ \t]*(" + "|".join(
    re.escape(w) for w in sorted(_VOCAB["allergic_reactions"], key=len, reverse=True)) + r")\b",
    re.I)


def take_reactions(t: Text, f: Findings, start: int, end: int) -> int:
    """Record the reactions written in parentheses inside an allergy clause or right after it
    as notes ("penicillin allergy: hives"); returns where the clause ends, reactions included."""
    after = _REACTION_AFTER.match(t.s, end)
    if after and t.free(after.start(), after.end()):
        end = after.end()
    dash = _DASH_REACTION.match(t.s, end)
    if dash and t.free(dash.start(), dash.end()):
        f.note("allergic_reaction", reaction=dash.group(1))
        end = dash.end()
    for m in _ITEM_REACTION.finditer(t.s, start, end):
        allergen = re.sub(r"^(?:allergic to|allergy to|allergies|allergy)\s*:?\s*", "",
                          m.group(1).strip(), flags=re.I)
        allergen = ALLERGEN_SYNONYMS.get(allergen.lower(), allergen)
        if allergen:
            f.note("allergy_reaction", allergen=allergen, reaction=m.group(2).strip())
        else:
            f.note("allergic_reaction", reaction=m.group(2).strip())
    return end


def arrow_reactions(text: str, finder: DrugFinder) -> str:
    """"sulfa -> rash" -> "sulfa allergy (rash)", read as any allergy with its reaction. Run
    before chart shorthand turns every arrow into a clause break; an arrow after a word that is
    no drug or drug class ("fever -> rash") is left as it is."""
    def sub(m: re.Match) -> str:
        words = m.group(1).split()
        for n in dict.fromkeys((len(words), 1)):
            name = " ".join(words[-n:])
            if is_allergen(finder, ALLERGEN_SYNONYMS.get(name.lower(), name)):
                head = m.group(1)[:len(m.group(1)) - len(name)]
                # Inside an allergy list ("Allergies: sulfa -> SJS") the item alone is enough.
                clause = re.split(r"[.;\n]", text[:m.start()])[-1]
                cue = "" if re.search(r"allerg", clause, re.I) else " allergy"
                return f"{head}{name}{cue} ({m.group(2)})"
        return m.group(0)
    return _ARROW_REACTION.sub(sub, text)


def is_allergen(finder: DrugFinder, item: str) -> bool:
    """A drug or a drug class ("sulfa", "penicillins"): what a prescribing check can use."""
    return item.lower() in ALLERGEN_CLASSES or is_known_drug(finder, item)


def read_ruled_out_allergies(t: Text, f: Findings, allergen_like: Callable[[str], bool]) -> None:
    """"no penicillin allergy", "not allergic to sulfa": a note; the allergen is not recorded,
    and the allergy field stays open (other allergies were not ruled out)."""
    ruled_out: list[str] = []
    for m in t.matches(_NOT_ALLERGIC_TO):
        items, end = read_list(t, m.end(), sentence_end(t.s, m.end()), allergen_like)
        if items:
            ruled_out += items
            t.take(m.start(), end)
    for m in t.matches(_NO_NAMED_ALLERGY):
        words = m.group(1).split()
        name = next((n for n in (" ".join(words), words[-1]) if allergen_like(n)), None)
        if name:
            ruled_out.append(name)
            t.take(m.start(), m.end())
    if ruled_out:
        names = [ALLERGEN_SYNONYMS.get(a.lower(), a) for a in ruled_out]
        f.note("not_allergic", items=", ".join(names))


def read_allergies(t: Text, f: Findings, finder: DrugFinder) -> None:
    def allergen_like(item: str) -> bool:
        return is_allergen(finder, ALLERGEN_SYNONYMS.get(item.lower(), item))

    read_ruled_out_allergies(t, f, allergen_like)
    for m in t.matches(_NO_ALLERGY):
        f.values["allergies"] = []
        f.unknown.discard("allergies")
        t.take(m.start(), m.end())

    def named(item: str) -> list[str]:
        """"cephalexin last year" -> "cephalexin": only the drug of a loosely cued item."""
        if item.lower() in ALLERGEN_CLASSES:
            return [item]
        return [d.input for d in finder(item) if getattr(d, "name", None)] or [item]

    def not_excluded(item: str) -> bool:
        return item.lower() not in _NOT_ALLERGEN_WORDS

    found: list[str] = []
    for cue, strict in _LIST_CUES:
        accept = allergen_like if strict else (lambda _item: True)
        for m in t.matches(cue):
            end = sentence_end(t.s, m.end())
            items, item_end = read_list(t, m.end(), end, accept, allergen_like)
            if items:
                found += ([n for item in items for n in named(item)] if strict
                          else split_drugs(items, finder))
                t.take(m.start(), take_reactions(t, f, m.start(), item_end))
    for pattern, strict in _DRUG_THEN_REACTION:
        accept = allergen_like if strict else not_excluded
        for m in t.matches(pattern):
            words = m.group(1).split()
            # "then amoxicillin gave ...": the drug is the last word (or two) before the verb.
            for n in dict.fromkeys((len(words), 1)):
                name = " ".join(words[-n:])
                if accept(name):
                    # "then amoxicillin" reads as a drug because it contains one: keep the drug.
                    found += named(name) if strict else [name]
                    t.take(m.end(1) - len(name), take_reactions(t, f, m.end(1) - len(name),
                                                                m.end()))
                    break
    found = [ALLERGEN_SYNONYMS.get(a.lower(), a) for a in found]
    if found:
        f.add_items("allergies", found)
        f.unknown.discard("allergies")
