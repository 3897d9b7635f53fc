"""The candidate index at query time: read a diagnosis, rank candidate drugs with evidence.

Score of a product (one drug or one combination) for a diagnosis, higher first:

    score = prior + label + guideline + popularity

    prior      = c(n_code) * share_code + (1 - c(n_code)) * c(n_cat) * share_cat,
                 c(n) = n / (n + 10)
                 share_* = training patients with the diagnosis (exact ICD-10 code, or its
                 3-character category) recorded with the product / all such patients.
                 The confidence c() lets the exact code speak when it has many patients and
                 falls back on the category when it has few. Range 0..1.
    label      = 0.2 * q, q = how well the best label indication covers the diagnosis
                 (1 same words, 0.9 broader label, 0.8 narrower only by organism, see _text)
    guideline  = 0.6 for a first-line drug of a matched concept, 0.3 for an alternative
    popularity = 0.1 * log(1 + training cases with the product) / log(1 + the most)
                 a tie-break among label-only drugs (a common drug before an obscure one);
                 never evidence by itself: a product needs prior, label or guideline evidence.

So priors with enough patients dominate label indications (a drug given to 40% of 300
patients scores 0.39 before any label), label indications fill in where no one in the
training records had the diagnosis and re-rank drugs of similar share, and a curated
first-line drug of a named guideline ranks high even where the records are thin or odd.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rxassist.errors import ConfigError, InvalidInput

import guardrails

from recommend.candidates import _floor, _setting, _text
from recommend.candidates._build import INDEX_FORMAT, INDEX_PATH
from recommend.candidates._sources import category, normalise_code
from recommend.candidates._types import (Candidate, CodeMatch, ConceptMatch, Evidence, HeldBack,
                                        IndicationMatch, Lookup, MatchInfo)

CONFIDENCE_PATIENTS = 10
W_LABEL = 0.2
W_GUIDELINE = {"first": 0.6, "alternative": 0.3}
# Secondary-prevention rows weigh as their line where a vascular history is known.
SECONDARY_LINES = {"secondary-first": "first", "secondary-alternative": "alternative"}
# A diagnosis text that itself says the event has happened ("prevent another stroke",
# "secondary prevention after MI") makes its prevention secondary.
_SECONDARY_TEXT = re.compile(r"\b(secondary|recurren\w*|another|further|repeat\w*|after|post)\b",
                             re.I)
W_POPULARITY = 0.1
CONCEPT_MIN_SCORE = 88.0
CONCEPT_MARGIN = 0.0  # only the best-matching concepts (ties kept)
CODE_NAME_MIN_SCORE = 90.0
CHILD_AGE = 18  # below it, a children's concept of the disease supersedes the plain one
INDICATION_MIN_QUALITY = 0.75
_LABEL_SOURCE = {"drugcentral": "DrugCentral 2016", "labeledin": "LabeledIn, FDA label"}


def confidence(n: int) -> float:
    return n / (n + CONFIDENCE_PATIENTS)


def _pct(share: float) -> str:
    p = 100 * share
    return f"{p:.0f}%" if p >= 1 else f"{p:.1f}%"


def _short_citation(citation: str) -> str:
    # "ADA Standards of Care in Diabetes-2024, sec. 9 (Diabetes Care ...)" -> before " ("
    return citation.split(" (")[0].split(";")[0].strip()


@dataclass
class _Acc:
    prior: float = 0.0
    label: float = 0.0
    guideline: float = 0.0
    evidence: dict[str, Evidence] = field(default_factory=dict)
    avoid: str | None = None   # a guideline row says: not for this presentation (why)


class CandidateIndex:
    """Ranked candidate drugs per diagnosis from the built index (see module docstring)."""

    def __init__(self, data: dict):
        if data.get("format") != INDEX_FORMAT:
            raise ConfigError(f"candidate index format {data.get('format')!r}, expected "
                              f"{INDEX_FORMAT}; run `rxassist candidates build`")
        self.version: str = data["version"]
        self.sources: dict = data["sources"]
        self._products: dict[str, dict] = data["products"]
        self._popularity: dict[str, int] = data["popularity"]
        self._codes: dict[str, dict] = data["codes"]
        self._categories: dict[str, dict] = data["categories"]
        self._indications: dict[str, dict[str, list[str]]] = data["indications"]
        self._concepts: list[dict] = data["concepts"]
        self._guidelines: dict[str, list[dict]] = data["guidelines"]
        self._max_pop = math.log1p(max(self._popularity.values(), default=1))
        _text.set_known_words([t for c in self._concepts for t in c["terms"]]
                              + [v["text"] for v in self._codes.values()]
                              + list(self._indications))
        self._category_texts: dict[str, list[str]] = {}
        for c, v in sorted(self._codes.items()):
            self._category_texts.setdefault(category(c), []).append(v["text"])

    @classmethod
    def from_file(cls, path: Path = INDEX_PATH) -> "CandidateIndex":
        if not path.exists():
            raise ConfigError(f"candidate index not found at {path}; run "
                              "`rxassist candidates build`")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return cls(json.load(fh))

    # ---- reading the diagnosis -------------------------------------------------------------

    def _concepts_for(self, text: str, code: str | None, pregnant: bool | None = None,
                      child: bool = False) -> list[ConceptMatch]:
        found: dict[str, ConceptMatch] = {}
        populations = ([("pregnan", "in pregnancy")] if pregnant else []) + \
            ([("child", "in children")] if child else [])
        known = self._codes.get(code) if code else None
        if code:
            # The most specific code family wins: J44.1 (COPD exacerbation) over J44 (COPD),
            # I50.23 (acute on chronic) over I50 (heart failure).
            depth = {c["name"]: max((len(p) for p in c["icd10"] if code.startswith(p)),
                                    default=0) for c in self._concepts}
            deepest = max(depth.values(), default=0)
            for c in self._concepts:
                if not depth[c["name"]] or depth[c["name"]] < deepest:
                    continue
                # A more specific code of the family ("E11.4 Type 2 diabetes mellitus with
                # neurological complications") is another clinical question than the concept:
                # its own description must name the concept with at most one extra word.
                if known and code not in c["icd10"] and max(
                        _text.term_score(known["text"], t) for t in c["terms"]) < 98:
                    continue
                found[c["name"]] = ConceptMatch(name=c["name"], term=code, score=100.0,
                                                how="code")
        for stem, suffix in populations:
            # For a pregnant patient a pregnancy concept of the same disease supersedes the
            # plain one ("essential hypertension" -> "hypertension in pregnancy"); for a child,
            # a children's concept ("insomnia" -> "insomnia in children").
            for name in list(found):
                best = max(((_text.term_score(f"{name} {suffix}", t), c["name"])
                            for c in self._concepts if stem in c["name"]
                            for t in c["terms"]), default=(0.0, ""))
                if best[0] >= CONCEPT_MIN_SCORE and best[1] not in found:
                    del found[name]
                    found[best[1]] = ConceptMatch(name=best[1], term=code or "", score=100.0,
                                                  how="code")
        # A code with its own training records says what the diagnosis is; the text then
        # only adds concepts where no code was given or the code is unknown. Beside a concept
        # the code names, only a near-exact wording adds another ("postoperative nausea and
        # vomiting" with R11.2), not a loose one (I25.10's title, "... without angina
        # pectoris", is not angina).
        min_score = CONCEPT_MIN_SCORE if not found else max(CONCEPT_MIN_SCORE, 98.0)
        if text and known is None:
            # A pregnant patient's diagnosis is read as "... in pregnancy", a child's as "... in
            # children": such a concept (its own guideline) then wins by the words; the plain
            # concept still matches where there is none.
            read = text
            for stem, suffix in populations:
                if stem not in read.lower():
                    read = f"{read} {suffix}"
            scored = []
            for c in self._concepts:
                best = max(((_text.term_score(read, t), t) for t in c["terms"]),
                           key=lambda x: (x[0], len(x[1])))
                if best[0] >= min_score:
                    scored.append((best[0], best[1], c["name"]))
            if scored:
                top = max(s for s, _, _ in scored)
                for s, term, name in sorted(scored, key=lambda x: (-x[0], x[2])):
                    if s >= top - CONCEPT_MARGIN and name not in found:
                        found[name] = ConceptMatch(name=name, term=term, score=s, how="name")
        return sorted(found.values(), key=lambda m: (-m.score, m.name))

    def _code_match(self, code: str, how: str, score: float = 100.0) -> list[CodeMatch]:
        out = []
        if code in self._codes:
            out.append(CodeMatch(code=code, text=self._codes[code]["text"],
                                 patients=self._codes[code]["n"], how=how, score=score))
        cat = category(code)
        if cat in self._categories:
            out.append(CodeMatch(code=cat, text=f"category {cat}",
                                 patients=self._categories[cat]["n"], how="category",
                                 score=score))
        return out

    def _prior_codes(self, text: str, code: str | None,
                     concepts: list[ConceptMatch]) -> list[CodeMatch]:
        if code:
            found = self._code_match(code, "code")
            if found:
                return found
        by_name = {c["name"]: c for c in self._concepts}
        for m in concepts:
            prior = by_name[m.name]["prior_code"]
            if prior:
                found = self._code_match(prior, "concept", m.score)
                if found:
                    return found
        if text and not concepts:
            # A matched concept without a prior code has no training records on purpose
            # (nausea of pregnancy is not postoperative nausea): no look-alike code then.
            scored = [(_text.term_score(text, v["text"]), v["n"], c)
                      for c, v in self._codes.items() if _floor.same_acuity(text, v["text"])]
            best = max(scored, default=(0.0, 0, ""))
            if best[0] >= CODE_NAME_MIN_SCORE:
                return self._code_match(best[2], "name", best[0])
        return []

    def _queries(self, text: str, concepts: list[ConceptMatch],
                 codes: list[CodeMatch]) -> list[str]:
        qs = [text] if text else []
        by_name = {c["name"]: c for c in self._concepts}
        for m in concepts:
            qs.append(m.name)
            qs.extend(by_name[m.name]["terms"])
        qs.extend(c.text for c in codes if c.how != "category")
        seen: set[frozenset] = set()
        out = []
        for q in qs:
            s = _text.stems(q)
            if s and s not in seen:
                seen.add(s)
                out.append(q)
        return out

    def _indications_for(self, queries: list[str]) -> list[IndicationMatch]:
        out = []
        for indication in self._indications:
            best, best_q = 0.0, ""
            for q in queries:
                quality = _text.indication_quality(indication, q)
                if quality > best:
                    best, best_q = quality, q
            if best >= INDICATION_MIN_QUALITY:
                out.append(IndicationMatch(indication=indication, quality=best, query=best_q))
        return sorted(out, key=lambda m: (-m.quality, m.indication))

    def match_info(self, diagnosis_text: str, code: str | None = None, *,
                   pregnant: bool | None = None, age: float | None = None) -> MatchInfo:
        """How the diagnosis was read: codes whose priors count, concepts, label indications.
        `pregnant=True` prefers a pregnancy-specific concept where one exists, an `age` under
        CHILD_AGE a children's concept ("insomnia in children")."""
        text = " ".join((diagnosis_text or "").split())
        if not text and not (code or "").strip():
            raise InvalidInput("a diagnosis needs text or an ICD-10 code", param="diagnosis")
        ncode = normalise_code(code)
        note = None
        if code and code.strip() and ncode is None:
            note = (f"code {code!r} is not an ICD-10 code; the diagnosis was matched by its "
                    "text only")
        concepts = self._concepts_for(text, ncode, pregnant,
                                      child=age is not None and age < CHILD_AGE)
        codes = self._prior_codes(text, ncode, concepts)
        if ncode and codes and codes[0].how != "code" and codes[0].how != "category":
            note = f"code {ncode} has no training records; priors from {codes[0].code}"
        elif ncode and not codes:
            note = f"code {ncode} has no training records"
        indications = self._indications_for(self._queries(text, concepts, codes))
        return MatchInfo(diagnosis_text=text, code=ncode, code_note=note, prior_codes=codes,
                         concepts=concepts, indications=indications)

    # ---- ranking ------------------------------------------------------------------------

    def candidates(self, diagnosis_text: str, code: str | None = None, limit: int = 12, *,
                   pregnant: bool | None = None, setting: str | None = None,
                   age: float | None = None, vascular: bool | None = None) -> list[Candidate]:
        """Ranked candidates for a diagnosis (ICD-10 code and/or free text); [] when nothing
        is known about it. `pregnant=True` (the patient's pregnancy) prefers a pregnancy
        concept ("UTI" -> "urinary tract infection in pregnancy"); `setting` ('outpatient',
        'inpatient', 'icu') prefers that setting's guideline rows; `age` (years) under 18
        prefers a children's concept; `vascular=True` (a known coronary, cerebrovascular or
        peripheral arterial history, guardrails.vascular_history) offers the secondary-
        prevention rows. Current medications and safety (guardrails.check) are the caller's
        job."""
        return self.lookup(diagnosis_text, code, limit, pregnant=pregnant,
                           setting=setting, age=age, vascular=vascular).candidates

    def _classes(self, keys: list[str]) -> frozenset[str]:
        """Therapeutic classes of these products' ingredients (a label-only drug of a class the
        guideline names, benazepril beside lisinopril, is the guideline's choice too)."""
        return frozenset(c for k in keys for i in self._products[k]["ingredients"]
                         for c in guardrails.drug_classes(i))

    def lookup(self, diagnosis_text: str, code: str | None = None, limit: int = 12, *,
               pregnant: bool | None = None, setting: str | None = None,
               age: float | None = None, vascular: bool | None = None) -> Lookup:
        """candidates() plus what was considered and held back (below the evidence floor,
        co-occurrence only, not for this presentation) and the setting assumed."""
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, got {limit}", param="limit")
        info = self.match_info(diagnosis_text, code, pregnant=pregnant, age=age)
        where, assumed = _setting.resolve(setting, [
            r.get("setting", "any") for m in info.concepts
            for r in self._guidelines.get(m.name, [])])
        info = info.model_copy(update={"setting": where, "setting_assumed": assumed})
        acc: dict[str, _Acc] = {}
        short: dict[str, str] = {}
        self._add_priors(info, acc, short)
        self._add_labels(info, acc)
        secondary = bool(vascular) or bool(_SECONDARY_TEXT.search(info.diagnosis_text))
        self._add_guidelines(info, acc, where, secondary)
        treats = any(row["line"] in W_GUIDELINE
                     or (secondary and row["line"] in SECONDARY_LINES)
                     for m in info.concepts for row in self._guidelines.get(m.name, []))
        named_classes = (self._classes([k for k, a in acc.items() if a.guideline]) if treats
                         else frozenset())
        ranked: list[Candidate] = []
        held: list[HeldBack] = []
        for key, a in acc.items():
            prod = self._products[key]
            # A label-only drug of a class the guideline names still needs to be in use: one
            # no US patient of the training survey took (metaproterenol beside albuterol,
            # oral terbutaline) is a relic of old labels, not a choice.
            if treats and a.label and not (a.guideline or a.prior or a.avoid) \
                    and not _floor.LABEL_ALONE_BESIDE_GUIDELINE \
                    and not (self._classes([key]) & named_classes
                             and self._popularity.get(key, 0) > 0):
                held.append(HeldBack(name=prod["name"], ingredients=prod["ingredients"],
                                     reason=_floor.LABEL_ALONE_REASON,
                                     evidence=_evidence_line(a)))
                continue
            if a.avoid or (_floor.REQUIRE_TREATMENT_EVIDENCE and not (a.label or a.guideline)
                           and not _prior_alone(a, where)):
                reason = a.avoid or (
                    "recorded for patients with this diagnosis, but no label indication and no "
                    "guideline row says it treats it (it may treat something else they have; "
                    f"records alone need {_floor.PRIOR_ALONE_MIN_PATIENTS} patients and "
                    f"{100 * _floor.PRIOR_ALONE_MIN_SHARE:.0f}%, and never suffice in hospital)")
                held.append(HeldBack(name=prod["name"], ingredients=prod["ingredients"],
                                     reason=reason, evidence=_evidence_line(a)))
                continue
            pop = W_POPULARITY * math.log1p(self._popularity.get(key, 0)) / self._max_pop
            ranked.append(Candidate(name=prod["name"], ingredients=prod["ingredients"],
                                    score=round(a.prior + a.label + a.guideline + pop, 4),
                                    prior=round(a.prior, 4),
                                    evidence=list(a.evidence.values())))
        for key, why in short.items():
            if key not in acc:
                prod = self._products[key]
                held.append(HeldBack(name=prod["name"], ingredients=prod["ingredients"],
                                     reason=why))
        ranked.sort(key=lambda c: (-c.score, c.name))
        advice = [f"{row['note']} ({_short_citation(row['citation'])})"
                  for m in info.concepts for row in self._guidelines.get(m.name, [])
                  if row["line"] == "none"]
        if advice and not treats:
            # A guideline says no drug treats this itself (acute kidney injury): whatever the
            # labels or records suggest is held back, and the advice is the answer. Where the
            # text also names a problem that has treatment rows ("cirrhosis with hepatic
            # encephalopathy"), that problem is the question and its rows stand.
            held = [HeldBack(name=c.name, ingredients=c.ingredients, evidence=c.evidence_text(),
                             reason="no drug is offered for this diagnosis: " + advice[0])
                    for c in ranked] + held
            ranked = []
        held.sort(key=lambda h: (not h.reason.startswith(("not for", "no drug is offered")),
                                 h.name))
        return Lookup(candidates=ranked[:limit], held_back=held, info=info, advice=advice)

    def _add_priors(self, info: MatchInfo, acc: dict[str, _Acc],
                    short: dict[str, str]) -> None:
        """Priors above the floor (candidates/_floor.py) go into `acc`; the drugs that were
        recorded but fall short go into `short` with the reason."""
        exact = next((c for c in info.prior_codes if c.how != "category"), None)
        cat = next((c for c in info.prior_codes if c.how == "category"), None)
        query = info.diagnosis_text or (exact.text if exact else "")
        if cat is not None:
            unpooled = _floor.category_pools(cat.code, self._category_texts.get(cat.code, []),
                                             query)
            if unpooled:
                cat = None
        code_counts = self._codes[exact.code]["counts"] if exact else {}
        cat_counts = self._categories[cat.code]["counts"] if cat else {}
        n_code = exact.patients if exact else 0
        n_cat = cat.patients if cat else 0
        c_code = confidence(n_code)
        for key in sorted(set(code_counts) | set(cat_counts)):
            k_code, k_cat = code_counts.get(key, 0), cat_counts.get(key, 0)
            ok_code, ok_cat = _floor.passes(k_code, n_code), _floor.passes(k_cat, n_cat)
            if not (ok_code or ok_cat):
                k, n = (k_code, n_code) if k_code else (k_cat, n_cat)
                where = exact.code if k_code else cat.code
                short[key] = (f"evidence below the floor: recorded for {k} of {n} patients "
                              f"({where}) in the training records; the floor is "
                              f"{_floor.floor_text()}")
                continue
            share_code = k_code / n_code if ok_code else 0.0
            share_cat = k_cat / n_cat if ok_cat else 0.0
            a = acc.setdefault(key, _Acc())
            a.prior = (c_code * share_code + (1 - c_code) * confidence(n_cat) * share_cat) \
                * _setting.fit(_setting.RECORDS_SETTING, info.setting)
            if ok_code:
                where = exact.code if exact.how == "code" else f"{exact.code} {exact.text}"
                a.evidence["prior_code"] = Evidence(
                    source="prior_code", share=round(share_code, 4), count=k_code,
                    strength=_floor.prior_strength(k_code, share_code),
                    detail=f"prescribed for this diagnosis to {_pct(share_code)} of patients "
                           f"in the training records ({where}, {k_code} of n={n_code})")
            # Category evidence only where it adds patients beyond the exact code.
            if ok_cat and (n_cat > n_code or not ok_code):
                a.evidence["prior_category"] = Evidence(
                    source="prior_category", share=round(share_cat, 4), count=k_cat,
                    strength=_floor.prior_strength(k_cat, share_cat),
                    detail=f"prescribed for {cat.code}.x diagnoses to {_pct(share_cat)} of "
                           f"patients in the training records ({k_cat} of n={n_cat})")

    def _add_labels(self, info: MatchInfo, acc: dict[str, _Acc]) -> None:
        best: dict[tuple[str, str], IndicationMatch] = {}
        for m in info.indications:  # sorted best first
            for source, keys in self._indications[m.indication].items():
                for key in keys:
                    best.setdefault((key, source), m)
        for (key, source), m in sorted(best.items()):
            a = acc.setdefault(key, _Acc())
            a.label = max(a.label, W_LABEL * m.quality)
            a.evidence[source] = Evidence(
                source=source, strength="moderate" if m.quality >= 1.0 else "weak",
                detail=f"label indication: {m.indication.lower()} ({_LABEL_SOURCE[source]})")

    def _add_guidelines(self, info: MatchInfo, acc: dict[str, _Acc],
                        where: str | None, secondary: bool = False) -> None:
        for m in info.concepts:
            for row in self._guidelines.get(m.name, []):
                cite = _short_citation(row["citation"])
                if row["line"] == "none":
                    continue
                if row["line"] in SECONDARY_LINES:
                    if not secondary:
                        # Primary prevention: the antiplatelet is held back, and the clinician
                        # who knows of a vascular history sees why.
                        a = acc.setdefault(row["product"], _Acc())
                        a.avoid = (f"not for {m.name} without a known vascular history "
                                   f"(coronary, cerebrovascular or peripheral arterial disease "
                                   f"among the comorbidities or implied by a current drug): "
                                   f"{row['note']} ({cite})")
                        continue
                    row = {**row, "line": SECONDARY_LINES[row["line"]],
                           "note": f"vascular history known; {row['note']}"}
                if row["line"] == "avoid":
                    a = acc.setdefault(row["product"], _Acc())
                    a.avoid = (f"not for {m.name}: {row['note']} ({cite})" if row["note"]
                               else f"not for {m.name} ({cite})")
                    continue
                fit = _setting.fit(row.get("setting", "any"), where)
                w = W_GUIDELINE[row["line"]] * fit
                a = acc.setdefault(row["product"], _Acc())
                if w <= a.guideline:
                    continue
                a.guideline = w
                line = "first-line" if row["line"] == "first" else "alternative"
                strength = "strong" if row["line"] == "first" else "moderate"
                if fit < 1:
                    line += f" in the {row['setting']} setting"
                    strength = "moderate" if strength == "strong" else "weak"
                note = f" ({row['note']})" if row["note"] else ""
                a.evidence["guideline"] = Evidence(
                    source="guideline", reference=row["citation"], strength=strength,
                    detail=f"{line} for {m.name}{note} per {cite}")


def _prior_alone(a: _Acc, where: str | None) -> bool:
    return any(e.count is not None and e.share is not None
               and _floor.prior_alone_suffices(e.count, e.share, where)
               for e in a.evidence.values() if e.source.startswith("prior"))


def _evidence_line(a: _Acc) -> str:
    return "; ".join(e.detail for e in a.evidence.values())


@lru_cache(maxsize=4)
def load_index(path: Path | None = None) -> CandidateIndex:
    """The shipped index, loaded once per process (and per explicit path)."""
    return CandidateIndex.from_file(path or INDEX_PATH)
