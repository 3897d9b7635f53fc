"""Current medications: "on levothyroxine", "takes metformin 500 mg bid", "no regular meds", and
any other drug the lexicon finds outside an allergy clause or the diagnosis (safety first: more
duplicate checks, never fewer)."""

from __future__ import annotations

import re
from itertools import islice
from typing import Callable

from assistant.extract.coding import names_condition
from assistant.extract.context import (NOT_AT_GOAL, comorbidity_text, read_clause,
                                       read_clause_loose, refers_back, split_indication,
                                       treated_condition)
from assistant.extract.text import FREQUENCY, DrugFinder, DrugNormalizer, Findings, Text, \
    is_known_drug, read_list, sentence_end, split_drugs
from assistant.extract.vocabulary import alternation, vocabulary

# Shorthand for medicines that are not one ingredient ("on OCP"): kept, spelled out, so the
# clinician sees it and the guardrails report what they cannot check.
MED_ABBREVIATIONS: dict[str, str] = vocabulary()["medication_abbreviations"]
# Three-letter drug abbreviations ("GTN", "MTX"): the ingredient, which the guardrails check.
SHORT_NAMES: dict[str, str] = vocabulary()["medication_short_names"]
_FORM_WORD = re.compile(r"\s+(?:sprays?|patch(?:es)?|tablets?|tabs?|caps(?:ules)?|inhalers?|puffers?|"
                        r"sl|s/l|prn|cream|gel|drops|injections?|supplements?)\s*$", re.I)
_SHORT_NAME_RE = re.compile(r"(?<![\w/-])(?:" + "|".join(k.upper() for k in SHORT_NAMES)
                            + r")(?![\w/-])")


def abbreviation(item: str) -> str | None:
    """What a medication abbreviation stands for: "GTN spray for angina" -> "glyceryl
    trinitrate", "OCP" -> "oral contraceptive (OCP)"; None for anything else."""
    key = re.sub(r"\s+\d+(?:\.\d+)?$", "", split_indication(item)[0].lower().strip())
    # "a statin", "her BP meds" ("the pill" is its own name)
    if key not in MED_ABBREVIATIONS:
        key = re.sub(r"^(?:a|an|her|his|their|some)\s+", "", key)
    for _ in range(3):
        hit = SHORT_NAMES.get(key) or MED_ABBREVIATIONS.get(key)
        if hit:
            return hit
        shorter = _FORM_WORD.sub("", key)
        if shorter == key:
            return None
        key = shorter
    return None

# Cue words read per turn and cue kind: a consultation names a few; a pasted wall of "on on on"
# must stay linear. Drugs past the cap are still found by read_drug_mentions.
MAX_CUES = 40
_MED_CUE_STRONG = re.compile(rf"\b(?:{alternation('medication_cues_regex')})\s+", re.I)
_MED_CUE_WEAK = re.compile(r"\b(?:on|also on|already on)\s+", re.I)
_INNER_CUE = re.compile(r"\b(?:on|to|for|with|and|or|takes?|taking|start\w*|stop\w*|switch\w*|"
                        r"add\w*|wants?|needs?)\b", re.I)
_DENIED = re.compile(r"\s*\?\s*(?:[-,:]\s*)?(?:no|nope|not yet|never)\b(?:\s*[-,:]?\s*not yet)?", re.I)
_NO_MEDS = re.compile(rf"\b(?:{alternation('no_medication_phrases_regex')})\b", re.I)


def misspelt_drug(normalize: DrugNormalizer) -> Callable[[str], bool]:
    """Whether one written word is a drug name misspelt ("metfromin", "lisinoprill"): the
    guardrails read it by similarity (status "fuzzy", their thresholds), and it names no
    condition. Such a name is kept as written; the guardrails' name_guess flag asks the
    clinician to confirm it."""
    def guess(item: str) -> bool:
        word = item.strip()
        if not re.fullmatch(r"[A-Za-z][a-z-]{4,}", word) or names_condition(word):
            return False
        return getattr(normalize(word), "status", None) == "fuzzy"
    return guess


def names_a_drug(item: str, finder: DrugFinder,
                 guess: Callable[[str], bool] = lambda _item: False) -> bool:
    """The item is a drug: it starts with one, after at most two words ("low-dose aspirin");
    "HTN on amlodipine" or "wants to start insulin" only mention one."""
    if abbreviation(item) is not None or guess(item):
        return True
    name = split_indication(item)[0]
    for d in finder(name):
        if getattr(d, "name", None):
            at = name.lower().find(d.input.lower())
            before, after = name[:at], name[at + len(d.input):]
            return (len(before.split()) <= 2 and not _INNER_CUE.search(before)
                    and not _POISONING_AFTER.match(after))   # "digoxin toxicity"
    return False


# "not on warfarin", "no longer taking metformin", "stopped amlodipine": not taken now.
_NOT_TAKEN_CUE = re.compile(r"\b(?:(?:not|isn'?t|is not|never been|never|no longer|not currently)\s+"
                            r"(?:on|taking|takes|using|uses|taken)|stopped|discontinued|came off|"
                            # in the past: "was on naproxen", "previously on", "used to take"
                            r"(?:was|were|had been)\s+(?:on|taking)|previously\s+(?:on|took|taking)|"
                            r"formerly\s+on|used\s+to\s+(?:take|be\s+on)|"
                            # tried before: "tried sertraline and citalopram without benefit"
                            r"(?:has\s+|have\s+)?(?:tried|trialled|trialed))\s+"
                            r"(?:(?:any|her|his|their)\s+)?", re.I)
# "naproxen stopped due to GI bleed", "..., d/c'd": the drug before the word that stops it.
_STOPPED_AFTER = re.compile(r"[ \t]*[,\-\u2013]?[ \t]*(?:(?:was|were|since|now|then)[ \t]+)?(?:stopped|"
                            r"discontinued|d/c'?d|ceased|held|withdrawn|previously|in the past|"
                            r"formerly)\b"
                            # when: "stopped last month", "stopped 2 weeks ago"
                            r"(?:[ \t]+(?:last|this|in)[ \t]+\w+|[ \t]+\d+[ \t]*\w+[ \t]+ago|"
                            r"[ \t]+(?:recently|yesterday))?", re.I)
_DRUG_CLASSES = frozenset(vocabulary()["allergen_classes"])
_REASON_ONLY = re.compile(r"(?:due to|d/t|because(?: of)?|secondary to|after)\s+", re.I)
# Why it was stopped or what it was for ("stopped metformin due to GI upset", "... for AF").
_WHY_NOT_TAKEN = re.compile(r"\s+(?P<why>for|due to|d/t|because(?: of)?|as|after|since|following|"
                            r"secondary to)\s+", re.I)


def read_not_taken(t: Text, f: Findings, finder: DrugFinder) -> None:
    """A drug said not to be taken is a note, never a current medication (read before "on X");
    the condition it was for is still a comorbidity."""
    for m in islice(t.matches(_NOT_TAKEN_CUE), MAX_CUES):
        end = sentence_end(t.s, m.end())
        why = _WHY_NOT_TAKEN.search(t.s, m.end(), end)
        # A class stopped is a note too ("stopped ACE inhibitors due to cough").
        items, item_end = read_list(t, m.end(), why.start() if why else end,
                                    lambda item: names_a_drug(item, finder)
                                    or item.lower() in _DRUG_CLASSES,
                                    products=lambda x: is_known_drug(finder, x))
        if not items:
            # "..., stopped due to myalgia": the drug was named before; the reason is no
            # condition to treat.
            reason = _REASON_ONLY.match(t.s, m.end()) if m.group(0).lower().startswith(
                ("stopped", "discontinued")) and _drug_before(t, m.start(), finder) is None \
                else None
            if reason:
                end = _COND_END.search(t.s, reason.end())
                end = end.start() if end else len(t.s)
                f.note("not_taken", said=" ".join(t.s[m.start():end].split()))
                t.take(m.start(), end)
            continue
        item_end = _stopped_reason(t, f, item_end, why)
        f.note("not_taken", said=" ".join(t.s[m.start():item_end].split()))
        t.take(m.start(), item_end)
    for m in t.matches(_STOPPED_AFTER):
        if "," in m.group(0):
            continue     # "on amlodipine, stopped ramipril": the stop is another clause's
        drug = _drug_before(t, m.start(), finder)
        if drug is None:
            continue
        # "warfarin held for surgery": after the stop word, "for" gives its reason.
        why = _WHY_NOT_TAKEN.match(t.s, m.end())
        end = _stopped_reason(t, f, m.end(), why, indication=False)
        f.note("not_taken", said=" ".join(t.s[drug:end].split()))
        t.take(drug, end)


def _stopped_reason(t: Text, f: Findings, item_end: int, why: re.Match | None,
                    indication: bool = True) -> int:
    """Where a not-taken clause ends: its reason ("due to GI bleed") and a following "stopped
    ..." ("was on naproxen, stopped due to GI bleed") are part of it. A condition it was for
    is a comorbidity."""
    after = _STOPPED_AFTER.match(t.s, item_end)
    if after and (why is None or why.start() != item_end):
        item_end = after.end()
        why = _WHY_NOT_TAKEN.match(t.s, item_end)
        indication = False
    if why and item_end == why.start():
        reason_end = _COND_END.search(t.s, why.end())
        item_end = reason_end.start() if reason_end else len(t.s)
        if indication and why.group("why").lower() == "for":
            add_comorbidity(f, treated_condition(t.s[why.end():item_end]))
        if after is None:      # "was on warfarin for AF, stopped after a bleed"
            return _stopped_reason(t, f, item_end, None)
    reason = re.match(r"[ \t]*\([^()\n]{1,60}\)", t.s[item_end:])    # "d/c'd (diarrhoea)"
    return item_end + reason.end() if reason else item_end


def _drug_before(t: Text, at: int, finder: DrugFinder) -> int | None:
    """Where the drug written right before `at` starts (one or two words, not yet read)."""
    words = list(re.finditer(r"[A-Za-z][\w-]*", t.s[max(0, at - 40):at]))
    base = max(0, at - 40)
    for n in (2, 1):
        if len(words) < n:
            continue
        start = base + words[-n].start()
        name = t.s[start:at].strip()
        if t.free(start, at) and not re.search(r"[\n,;:.()/]", name) \
                and names_a_drug(name, finder):
            return start
    return None


def read_medications(t: Text, f: Findings, finder: DrugFinder,
                     guess: Callable[[str], bool] = lambda _item: False) -> None:
    for m in t.matches(_NO_MEDS):
        # "on sertraline ..., no other meds": a drug already read is kept (never fewer checks)
        f.values.setdefault("current_medications", [])
        t.take(m.start(), m.end())
    found: list[str] = []

    def known(item: str) -> bool:
        return names_a_drug(item, finder, guess)

    def not_a_condition(item: str) -> bool:
        return known(item) or not (names_condition(item) or read_clause(item).focus)
    # After a strong cue any item may be a drug the lexicon lacks (it is then flagged as unknown,
    # never guessed), but the list ends at a condition: "takes levothyroxine, new hypertension"
    # lists one medication.
    for cue, accept in ((_MED_CUE_STRONG, not_a_condition), (_MED_CUE_WEAK, known)):
        for m in islice(t.matches(cue), MAX_CUES):
            end = sentence_end(t.s, m.end())
            items, item_end = read_list(t, m.end(), end, accept,
                                        products=lambda x: is_known_drug(finder, x))
            denied = _DENIED.match(t.s, item_end) if items else None
            if denied:    # "on tamsulosin? no - not yet": asked about and denied
                f.note("not_on", items=", ".join(items))
                t.take(m.start(), denied.end())
                continue
            if items:
                drugs = []
                for item in items:
                    drug, condition = split_indication(item)
                    drugs.append(abbreviation(drug) or drug)
                    if condition:
                        add_comorbidity(f, condition)
                        f.treated.append(condition)
                found += split_drugs(drugs, finder)
                t.take(m.start(), item_end)
                mark_treated_condition(t, m.start(), item_end)
    if found:
        f.add_items("current_medications", found)
        f.unknown.discard("current_medications")


# "on isosorbide mononitrate for angina": a cue, the longest drug name the lexicon knows, then
# what it is taken for (up to the end of the clause or the next fact).
_ON_CUE = re.compile(r"\b(?:on|also on|already on|takes?|taking|using|uses|maintained on|"
                     r"started on|receiving)\s+", re.I)
_FOR = re.compile(r"\s*(?:for|to treat|because of|due to)\s+", re.I)
_COND_END = re.compile(r"[,;.\n(]|\s(?:and|&|\+|plus|but|who|with|presents?|presenting|now|"
                       r"today|here|since|c/o|nkda|allerg\w*)\b|$", re.I)
_NEXT_DRUG = re.compile(r"\s*(?:,|and|&|\+|plus)\s*(?:(?:also|on)\s+)?", re.I)


def _longest_drug(t: Text, start: int, finder: DrugFinder, max_chars: int = 60) -> int | None:
    """End of the longest drug name starting at `start` (a brand, a generic, a combination):
    one lexicon look-up over the window, then the longest mention that begins the window."""
    window = t.s[start:start + max_chars]
    if not re.match(r"[A-Za-z0-9]", window):
        return None
    best = 0
    for d in finder(window):
        name = getattr(d, "input", "") or ""
        if (getattr(d, "name", None) and window.lower().startswith(name.lower())
                and not re.match(r"[\w\-]", window[len(name):len(name) + 1])):
            best = max(best, len(name))
    end = start + best
    return end if best and t.free(start, end) else None


# "on meds for HTN": a medicine not named; the condition is still a comorbidity.
_UNNAMED_MEDICINE = re.compile(r"(?:(?:her|his|their|some)\s+)?(?:meds|medications?|medicines?|"
                               r"tablets|pills|treatment)\b", re.I)


def read_indications(t: Text, f: Findings, finder: DrugFinder) -> None:
    """"on X for Y" (and "..., Z for W" after it): X is a medication, Y a comorbidity."""
    meds: list[str] = []
    for m in islice(t.matches(_ON_CUE), MAX_CUES):
        pos = m.end()
        took_any = False
        while True:
            drug_end = _longest_drug(t, pos, finder)
            unnamed = _UNNAMED_MEDICINE.match(t.s, pos) if drug_end is None else None
            if unnamed and t.free(pos, unnamed.end()):
                drug_end = unnamed.end()
            if drug_end is None:
                break
            # the dose, its unit often left out ("allopurinol 300 for gout"), and how often
            tail = re.match(rf"(?:\s+\d+(?:\.\d+)?(?:\s*(?:mg|mcg|g|units?))?\b)?"
                            rf"(?:\s+{FREQUENCY}\b)?", t.s[drug_end:], re.I)
            after = drug_end + tail.end()
            fm = _FOR.match(t.s, after)
            if not fm:
                break
            ce = _COND_END.search(t.s, fm.end())
            cond_end = ce.start() if ce else len(t.s)
            condition = treated_condition(t.s[fm.end():cond_end])
            same = refers_back(t.s[fm.end():cond_end])    # "for it": for the diagnosis
            if not (condition or same) or not t.free(pos, cond_end) or (same and unnamed):
                break
            meds.append(f"medication for {condition} (which one?)" if unnamed
                        else t.s[pos:drug_end])
            if condition:
                add_comorbidity(f, condition)
                if not unnamed:
                    f.treated.append(condition)
            if not took_any and condition:
                mark_treated_condition(t, m.start(), cond_end)
            t.take(m.start() if not took_any else pos, cond_end)
            took_any = True
            nd = _NEXT_DRUG.match(t.s, cond_end)
            if not nd:
                break
            pos = nd.end()
    if meds:
        f.add_items("current_medications", meds)
        f.unknown.discard("current_medications")


_CLAUSE_BREAK = re.compile(r"[,;.\n:()]")
# "UTI on nitrofurantoin, not improving": the condition under treatment is still the question.
_FAILING = re.compile(r"^\W*(?:(?:but|and|yet)\s+)?(?:not improving|no improvement|no better|"
                      r"not (?:working|responding|settling)|fail(?:ed|ing)|worse(?:ning)?|still|"
                      r"day \d|despite|persist\w*|recurr\w*)", re.I)
_CONTROL_WORDS = re.compile(r"\s+(?:(?:well|poorly|badly)[- ])?(?:controlled|managed|stable|maintained|"
                            r"treated)\s*$", re.I)


def mark_treated_condition(t: Text, cue_start: int, list_end: int) -> None:
    """"AF on apixaban", "Parkinson's on levodopa": the words of the same clause just before the
    drug cue name a condition already treated, background to the question (see read_leftover)."""
    after = t.s[list_end:list_end + 60]
    if _FAILING.match(after) or NOT_AT_GOAL.search(re.split(r"[.;\n]", after, maxsplit=1)[0]):
        return
    a = cue_start
    while a > 0 and not t.used[a - 1] and not _CLAUSE_BREAK.match(t.s[a - 1]):
        a -= 1
    chunk = t.s[a:cue_start]
    if re.search(r"[A-Za-z]{2,}", chunk) and len(chunk.split()) <= 6:
        t.mark_background(a, cue_start)
        control = _CONTROL_WORDS.search(chunk)
        if control:   # "HTN well controlled on amlodipine": the condition is "HTN"
            t.take(a + control.start(), cue_start)


def add_comorbidity(f: Findings, condition: str) -> None:
    ctx = read_clause_loose(condition)
    if ctx.term and not (ctx.negated or ctx.family or ctx.hypothetical):
        f.add_items("comorbidities", [comorbidity_text(ctx.term)])


# A drug named as the cause of the problem ("C. diff after clindamycin") is not taken now.
_CAUSE_BEFORE = re.compile(r"\b(?:after|following|post|from|secondary to|due to|induced by|caused by)"
                           r"\s+(?:a\s+)?(?:recent\s+)?(?:course of\s+)?$", re.I)


_POISONING_AFTER = re.compile(r"\s*(?:overdose|overdosage|od\b|poisoning|toxicity|intoxication|"
                              r"ingestion|overuse)", re.I)


# "aspirin 81, HTN", "salbutamol inhaler": the number after a drug is its dose, never the age,
# and its form is no condition.
_DOSE_AFTER = re.compile(r"(?:[ \t]*\d+(?:\.\d+)?[ \t]*(?:mg|mcg|ug|g|ml|units?|iu)?\b)?"
                         r"(?:[ \t]+(?:inhalers?|puffers?|sprays?|patch(?:es)?|tablets?|tabs|"
                         r"capsules?|cream|gel|drops|injections?)\b)?", re.I)


def _take_dose(t: Text, drug_end: int) -> None:
    dose = _DOSE_AFTER.match(t.s, drug_end)
    if dose and dose.end() > drug_end and t.free(dose.start(), dose.end()):
        t.take(dose.start(), dose.end())


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
            if _POISONING_AFTER.match(t.s[b:b + 30]):
                continue     # "paracetamol overdose": the diagnosis names the drug
            if _CAUSE_BEFORE.search(t.s[max(0, a - 40):a]):
                f.note("named_as_cause", drug=t.s[a:b])
                t.take(a, b)
                break
            found.append(t.s[a:b])
            t.take(a, b)
            _take_dose(t, b)
            break
    for m in t.matches(_SHORT_NAME_RE):     # "PMH IHD, GTN prn": capitals only
        if not any(s <= m.start() < e for s, e in dx_segments) and \
                not _CAUSE_BEFORE.search(t.s[max(0, m.start() - 40):m.start()]):
            found.append(SHORT_NAMES[m.group(0).lower()])
            t.take(m.start(), m.end())
            _take_dose(t, m.end())
    if found:
        f.add_items("current_medications", found)
