"""An ICD-10-CM code for the diagnosis as written, where one fits.

    "non-purulent cellulitis left shin" -> L03.116 Cellulitis of left lower limb
    "HTN"                               -> I10 Essential (primary) hypertension
    "atrail fibrillation"               -> I48.91 Unspecified atrial fibrillation (similar)

Vocabulary: the ICD-10-CM titles (CMS/NCHS, public domain; assistant/data/icd10cm_titles.tsv.gz,
written from `simple-icd-10-cm` by scripts/build_icd10cm.py)
plus curated synonyms and abbreviations: the candidate index's concept terms
(recommend/candidates/data/concepts.tsv), the English readings of the KCD table
(assistant/data/ko_diagnoses.tsv) and clinician shorthand (assistant/data/dx_synonyms.tsv:
"IDA", "UC flare", "smoking cessation"). Three steps, the first that answers wins (steps 1 and
2 also on the text with plurals made singular: "recurrent UTIs"):

 1. exact    the whole diagnosis (or its spelled-out abbreviation) is a title or synonym
 2. concept  a synonym names the condition inside the text; the most specific ICD-10-CM code
             under that concept whose title words (with body sites and sides read as ICD
             words: shin -> lower limb, lt -> left) all appear in the text, else the concept's
             own code; a shorthand phrase beside sides, sites and severity words only
             ("mastitis L breast")
 3. similar  one title or synonym within a small edit distance (typos, "hypertenshun"), never
             reading one real word as another; flagged as similar

Only a single condition is coded: "hypertension, hyperlipidemia" names two questions, so no
code is given and the candidate index reads the text as before.
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from assistant.shorthand import expand_abbreviations

SIMILAR_MIN_SCORE = 90.0     # rapidfuzz ratio; typos in one or two letters of a 15+ letter name
SIMILAR_MAX_EDITS = 2        # letters changed or swapped (OSA), in a text of ten letters or more
_STOP = frozenset("of the a an in and or by to nos unspecified site".split())
# Words people write for the sites and sides ICD-10-CM titles name.
_SITE_WORDS = {
    **{w: ("lower", "limb") for w in ("shin", "calf", "leg", "legs", "thigh", "ankle", "foot",
                                      "feet", "toe", "toes", "knee", "shinbone", "lower-leg")},
    **{w: ("upper", "limb") for w in ("arm", "arms", "forearm", "elbow", "wrist", "hand",
                                      "finger", "fingers", "shoulder")},
    "lt": ("left",), "l": ("left",), "rt": ("right",), "r": ("right",),
    "lle": ("left", "lower", "limb"), "rle": ("right", "lower", "limb"),
    "lue": ("left", "upper", "limb"), "rue": ("right", "upper", "limb"),
    "diabetes": ("mellitus",), "afib": ("atrial", "fibrillation"),
}


@dataclass(frozen=True)
class CodedDiagnosis:
    code: str
    title: str
    how: str        # exact | concept | similar
    # The text names a curated concept of the candidate index (concepts.tsv), whose own
    # matching (its guideline table, its chosen prior code) then reads the diagnosis: the code
    # is shown to the clinician but not sent, so a family code's raw priors never replace the
    # curated evidence ("DVT left leg" -> I80.3 priors would lose the pregnancy concept).
    names_concept: bool = False

    @property
    def index_code(self) -> str | None:
        """The code to send to the candidate index, or None to let the text speak."""
        return None if self.names_concept else self.code

    @property
    def reading(self) -> str:
        mark = ", similar spelling" if self.how == "similar" else ""
        return f"{self.title[:1].lower() + self.title[1:]} ({self.code}{mark})"


def _norm(text: str) -> str:
    text = text.lower().replace("'s", "s")
    text = re.sub(r"\([^)]*\)", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _tokens(text: str) -> set[str]:
    words = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("'s", "s")).split()
    out = set(words)
    for w in words:
        out.update(_SITE_WORDS.get(w, ()))
    return out - _STOP


@lru_cache(maxsize=1)
def _icd() -> dict[str, str]:
    """ICD-10-CM code -> title (assistant/data/icd10cm_titles.tsv.gz, scripts/build_icd10cm.py)."""
    path = resources.files("assistant").joinpath("data/icd10cm_titles.tsv.gz")
    out: dict[str, str] = {}
    with gzip.open(path.open("rb"), "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                code, _, title = line.rstrip("\n").partition("\t")
                out[code] = title
    return out


@lru_cache(maxsize=1)
def _concepts() -> list[tuple[str, list[str], str]]:
    """(code, terms, ICD-10 prefixes) from the candidate index's curated concepts."""
    out = []
    path = resources.files("recommend.candidates").joinpath("data/concepts.tsv")
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            heads = [h.strip() for h in row["icd10"].split(",") if h.strip()]
            code = row["prior_code"] or (heads[0] if heads else "")
            if heads and code and not code.startswith(tuple(heads)) and heads[0] in _icd():
                code = heads[0]     # priors borrowed from another code: name the concept's own
            if code:
                out.append((code, row["terms"].split("|") + [row["concept"]], row["icd10"]))
    return out


@lru_cache(maxsize=1)
def _shorthand() -> dict[str, str]:
    """Normalised clinician phrase -> code (assistant/data/dx_synonyms.tsv)."""
    out: dict[str, str] = {}
    path = resources.files("assistant").joinpath("data/dx_synonyms.tsv")
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, phrases = line.split("\t")[:2]
        for phrase in phrases.split("|"):
            out.setdefault(_norm(phrase), code.strip())
    return out


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, str]:
    """Normalised phrase -> code: ICD-10-CM titles, clinician shorthand, then curated terms
    (which win)."""
    out: dict[str, str] = {}
    for code, title in _icd().items():
        out.setdefault(_norm(title), code)     # _norm drops "(primary)": the plain title
        if "(" in title:
            out.setdefault(_norm(title.replace("(", "").replace(")", "")), code)
    path = resources.files("assistant").joinpath("data/ko_diagnoses.tsv")
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, english = line.split("\t")[:2]
        out[_norm(english)] = code
    out.update(_shorthand())
    for code, terms, _ in _concepts():
        for term in terms:
            out[_norm(term)] = code
    return out


@lru_cache(maxsize=1)
def _by_category() -> dict[str, list[str]]:
    """ICD-10-CM codes grouped by their 3-character category."""
    out: dict[str, list[str]] = {}
    for code in _icd():
        out.setdefault(code[:3], []).append(code)
    return out


@lru_cache(maxsize=256)
def _icd_tokens(heads: tuple[str, ...]) -> list[tuple[str, frozenset[str]]]:
    """Title words of the codes under these ICD-10 prefixes (one concept's family)."""
    icd, groups = _icd(), _by_category()
    codes = {c for h in heads for c in groups.get(h[:3], ()) if c.startswith(h)}
    return [(code, frozenset(_tokens(icd[code]))) for code in sorted(codes)]


def _title(code: str) -> str:
    icd = _icd()
    if code in icd:
        return icd[code]
    for c, terms, _ in _concepts():
        if c == code:
            return terms[-1]
    reverse = {v: k for k, v in _synonyms().items()}
    return reverse.get(code, code)


def _exact(text: str) -> str | None:
    syn = _synonyms()
    for variant in (text, expand_abbreviations(text)):
        key = _norm(variant)
        if key in syn:
            return syn[key]
    inner = re.findall(r"\(([^)]+)\)", expand_abbreviations(text))
    rest = _norm(re.sub(r"\([^)]*\)", " ", text))
    if inner and _norm(inner[0]) in syn and len(rest.split()) <= 1:
        return syn[_norm(inner[0])]     # "UTI (urinary tract infection)"
    return None


def _concept(text: str) -> tuple[str, str] | None:
    """(concept code, its ICD-10 prefixes) of the longest curated term inside the text."""
    padded = f" {_norm(expand_abbreviations(text))} "
    best: tuple[int, str, str] | None = None
    for code, terms, prefixes in _concepts():
        for term in terms:
            t = _norm(term)
            if t and f" {t} " in padded and (best is None or len(t) > best[0]):
                best = (len(t), code, prefixes)
    return (best[1], best[2]) if best else None


# Words that only say where, which side, how bad or how often: a shorthand phrase names the
# condition inside a longer diagnosis only beside these ("mastitis L breast", "recurrent UTIs",
# "UC flare"); "tooth abscess" is not a skin abscess.
_QUALIFIERS = frozenset(
    "left right l r lt rt bilateral bilat both mild moderate severe acute chronic recurrent "
    "recurring persistent flare flareup up exacerbation episode new worsening ongoing "
    "uncomplicated simple suspected probable likely early breast ear ears eye eyes side".split()
    ) | frozenset(_SITE_WORDS)


def _shorthand_inside(text: str) -> str | None:
    """The code of the longest shorthand phrase inside the text, beside qualifiers only."""
    words = _norm(expand_abbreviations(text)).split()
    short = _shorthand()
    for n in range(len(words), 0, -1):
        for i in range(len(words) - n + 1):
            code = short.get(" ".join(words[i:i + n]))
            rest = words[:i] + words[i + n:]
            if code and all(w in _QUALIFIERS or w.isdigit() for w in rest):
                return code
    return None


def _singular(text: str) -> str:
    """Plural words made singular, for a second look: "recurrent UTIs", "kidney stones"."""
    def one(m: re.Match) -> str:
        w = m.group(0)
        if re.fullmatch(r"[A-Z]{2,}s", w):
            return w[:-1]
        if len(w) > 4 and w.endswith("s") and not re.search(r"(?:ss|is|us|ous)$", w.lower()):
            return w[:-1]
        return w
    return re.sub(r"[A-Za-z]+", one, text)


def _refine(text: str, concept_code: str, prefixes: str) -> str:
    """The most specific ICD-10-CM code of the concept whose title words all appear."""
    words = _tokens(expand_abbreviations(text))
    heads = [p.strip() for p in prefixes.split(",") if p.strip()] or [concept_code]
    best: tuple[int, int, str] | None = None
    for code, need in _icd_tokens(tuple(heads)):
        if need and need <= words:
            key = (len(need), -len(code), code)
            if best is None or key > best:
                best = key
    return best[2] if best and best[0] > len(_tokens(_title(concept_code)) & words) else concept_code


@lru_cache(maxsize=1)
def _vocabulary_words() -> frozenset[str]:
    return frozenset(w for phrase in _synonyms() for w in phrase.split())


def _similar(text: str) -> str | None:
    """One title or synonym spelled within a few letters of the text: rapidfuzz ratio of at
    least SIMILAR_MIN_SCORE, or few letters changed or swapped: one in a text of six to nine
    letters ("pnuemonia"), SIMILAR_MAX_EDITS in a longer one ("hypertenshun"). Never where a
    real word would be read as another ("hypotension", "dysphasia")."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.distance import OSA
    from recommend.candidates import lookalike_conflict
    key = _norm(expand_abbreviations(text))
    if len(key) < 6:
        return None
    keys = list(_synonyms())
    hit = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=SIMILAR_MIN_SCORE)
    if hit is None:
        hit = process.extractOne(key, keys, scorer=OSA.distance,
                                 score_cutoff=SIMILAR_MAX_EDITS if len(key) >= 10 else 1)
    if hit is None or lookalike_conflict(key, hit[0], _vocabulary_words()):
        return None
    return _synonyms()[hit[0]]


# "major depressive disorder, moderate", "asthma, mild persistent": a severity or course after a
# comma qualifies the condition before it; it names no second one.
_QUALIFIER_AFTER = re.compile(r",\s*((?:mild|moderate|moderately severe|severe|acute|chronic|"
                              r"recurrent|intermittent|persistent|uncomplicated|complicated|"
                              r"(?:well|poorly)\s+controlled|uncontrolled)"
                              r"(?:\s+(?:persistent|intermittent|episode|recurrent))?)\s*$", re.I)


def _single_condition(text: str) -> bool:
    bare = re.sub(r"\([^)]*\)", " ", text)
    return not re.search(r"[,;+/&]|\band\b|\bplus\b", bare, re.I)


@lru_cache(maxsize=4096)
def names_condition(text: str) -> bool:
    """Whether the text is, or contains, a condition the vocabulary knows (no similarity)."""
    return bool(text.strip()) and (_exact(text) is not None or _concept(text) is not None
                                   or _shorthand_inside(text) is not None)


@lru_cache(maxsize=2048)
def code_diagnosis(text: str, pregnant: bool | None = None,
                   lactating: bool | None = None) -> CodedDiagnosis | None:
    """The ICD-10-CM reading of one written diagnosis, or None where no code fits. For a
    pregnant patient a pregnancy code of the same condition (chapter O) is preferred; for a
    breastfeeding one the lactation code ("mastitis" -> O91.23) where one exists."""
    if text:
        text = _QUALIFIER_AFTER.sub(r" \1", text)
    if not text or not text.strip() or not _single_condition(text):
        return None
    if pregnant and "pregnan" not in text.lower():
        in_pregnancy = code_diagnosis(f"{text} in pregnancy")
        if in_pregnancy and in_pregnancy.code.startswith("O"):
            return in_pregnancy
    if lactating and not pregnant and "lactat" not in text.lower():
        in_lactation = code_diagnosis(f"lactational {text}")
        if in_lactation and in_lactation.code.startswith("O"):
            return in_lactation
    for variant in dict.fromkeys((text, _singular(text))):
        found = _concept(variant)
        code = _exact(variant)
        if code:
            return CodedDiagnosis(code, _title(code), "exact", found is not None)
        if found:
            code = _refine(variant, *found)
            return CodedDiagnosis(code, _title(code), "concept", True)
        code = _shorthand_inside(variant)
        if code:
            return CodedDiagnosis(code, _title(code), "concept")
    code = _similar(text)
    if code:
        return CodedDiagnosis(code, _title(code), "similar")
    return None
