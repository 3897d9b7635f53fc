"""Diagnosis wording -> comparable tokens, and how well two wordings match.

Tokens are lowercase words with plural endings and British spellings evened out
("infections" = "infection", "anaemia" = "anemia"), with words that carry no diagnosis
removed ("unspecified", "new"). "Acute" and "chronic" stay: they tell an acute gout flare
from chronic gout. Matching is by token sets first, because that is
explainable ("every word of the label indication appears in the diagnosis"), and rapidfuzz
only for typing errors.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz

# Words that say nothing about which disease it is (ICD boilerplate, consultation phrasing).
STOPWORDS = frozenset("""a an and or of the in on to with without for by due at as other
others unspecified specified not elsewhere classified nos site organism type primary
secondary disease diseases disorder disorders finding findings condition conditions
essential adjunct treatment therapy symptoms symptom episode single
new newly diagnosed diagnosis suspected presumed probable possible likely uncomplicated
simple mild moderate severe first onset recent admitted admission hospital hospitalised
hospitalized inpatient patient history""".split())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


# British spellings -> US, so "anaemia" = "anemia", "gonorrhoea" = "gonorrhea".
_SPELLING = (("aem", "em"), ("oea", "ea"), ("paed", "ped"))


def stem(word: str) -> str:
    """Inflection only: plural and spelling variants meet ("infections" = "infection",
    "nephropathies" = "nephropathy"), distinct words stay distinct ("thrombosis" is not
    "thrombocytosis", "diabetic" is not "diabetes"), unlike a fixed-length prefix."""
    w = word
    for a, b in _SPELLING:
        w = w.replace(a, b)
    if w.startswith("oe") and len(w) > 5:  # oedema, oesophagus
        w = w[1:]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "is", "us")):
        return w[:-1]
    return w


# Extra words a label indication may carry beyond the diagnosis and still cover it: organisms
# ("Haemophilus influenzae pneumonia" covers "pneumonia") and severity/setting qualifiers.
QUALIFIERS = frozenset(stem(s) for s in """bacterial infection infections infectious
streptococcus streptococcal pneumococcal pneumoniae haemophilus hemophilus influenzae
staphylococcus staphylococcal aureus klebsiella escherichia coli e proteus mirabilis
enterobacter cloacae enterococcus enterococcal pseudomonas aeruginosa morganella morganii
moraxella catarrhalis mycoplasma mycoplasmal chlamydia chlamydial chlamydophila legionella
citrobacter serratia acinetobacter providencia susceptible gram negative positive
anaerobic aerobic acute chronic complicated uncomplicated community acquired outpatient recurrent
mellitus""".split())
# A one-word indication this generic never stands for a whole diagnosis.
GENERIC = frozenset(stem(s) for s in """infection infections bacterial pain fever
inflammation edema spasm pregnancy pregnant""".split())


@lru_cache(maxsize=65536)
def stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words(text)
                     if w not in STOPWORDS and (len(w) > 1 or w.isdigit()))


@lru_cache(maxsize=65536)
def plain(text: str) -> str:
    """Content words in order, for rapidfuzz."""
    return " ".join(w for w in words(text) if w not in STOPWORDS)


def term_score(query: str, term: str) -> float:
    """How well a diagnosis as typed names a concept term or a code description, 0-100.

    Every word of the term present in the query: 100, less 2 per extra query word (so
    "UTI in pregnancy" prefers the pregnancy concept over plain "UTI"). A query that is less
    specific than the term ("arthritis" for "gouty arthritis") does not name it. Otherwise
    rapidfuzz token_sort_ratio on the content words, which only typing errors bring over the
    88 threshold callers use.
    """
    q, t = stems(query), stems(term)
    if not q or not t:
        return 0.0
    if t <= q:
        # Numbers and units ("urate 9.1 mg/dL", "EF 30%") are findings, not other diagnoses.
        extra = [w for w in q - t if w.isalpha() and len(w) > 2]
        return max(80.0, 100.0 - 2 * len(extra))
    return float(fuzz.token_sort_ratio(plain(query), plain(term)))


def indication_quality(indication: str, query: str) -> float:
    """How well a label indication covers a diagnosis, 0 (not at all) to 1 (same words).

    1.0   same content words ("Type 2 Diabetes Mellitus" ~ "diabetes mellitus, type 2")
    0.9   the indication is broader: all its words are in the diagnosis ("Urinary tract
          infections" for "urinary tract infection, site not specified") and make at least
          half of it, unless it is one generic word ("Infection")
    0.8   the indication is narrower only by organism or setting ("Pneumococcal pneumonia"
          for "pneumonia")
    0.85  * ratio: a near spelling (rapidfuzz token_sort_ratio >= 92)
    """
    i, q = stems(indication), stems(query)
    if not i or not q:
        return 0.0
    if i == q:
        return 1.0
    # A broader label must carry at least half of the diagnosis' words: "Anemia" does not
    # cover "iron deficiency anemia", "Pregnancy" does not cover "DVT in pregnancy".
    if i <= q and 2 * len(i) >= len(q) and not (len(i) == 1 and i <= GENERIC):
        return 0.9
    if q <= i and (i - q) <= QUALIFIERS:
        return 0.8
    ratio = fuzz.token_sort_ratio(plain(indication), plain(query))
    return 0.85 * ratio / 100 if ratio >= 92 else 0.0
