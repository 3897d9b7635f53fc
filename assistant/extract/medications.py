"""Current medications: "on levothyroxine", "takes metformin 500 mg bid", "no regular meds", and
any other drug the lexicon finds outside an allergy clause or the diagnosis (safety first: more
duplicate checks, never fewer)."""

from __future__ import annotations

import re

from assistant.extract.text import DrugFinder, Findings, Text, is_known_drug, read_list, \
    sentence_end, split_drugs
from assistant.extract.vocabulary import alternation

_MED_CUE_STRONG = re.compile(rf"\b(?:{alternation('medication_cues_regex')})\s+", re.I)
_MED_CUE_WEAK = re.compile(r"\b(?:on|also on|already on)\s+", re.I)
_NO_MEDS = re.compile(rf"\b(?:{alternation('no_medication_phrases_regex')})\b", re.I)


def read_medications(t: Text, f: Findings, finder: DrugFinder) -> None:
    for m in t.matches(_NO_MEDS):
        f.values["current_medications"] = []
        t.take(m.start(), m.end())
    found: list[str] = []
    for cue, accept in ((_MED_CUE_STRONG, lambda item: True),
                        (_MED_CUE_WEAK, lambda item: is_known_drug(finder, item))):
        for m in t.matches(cue):
            end = sentence_end(t.s, m.end())
            items, item_end = read_list(t, m.end(), end, accept)
            if items:
                found += split_drugs(items, finder)
                t.take(m.start(), item_end)
    if found:
        f.add_items("current_medications", found)
        f.unknown.discard("current_medications")


def read_drug_mentions(t: Text, f: Findings, finder: DrugFinder,
                       dx_segments: list[tuple[int, int]]) -> None:
    """Any other drug the lexicon finds in what is left is taken as a current medication."""
    free_text = t.leftover()
    mentions = [d for d in finder(free_text.replace("\x00", " ")) if getattr(d, "name", None)]
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
        f.add_items("current_medications", found)
