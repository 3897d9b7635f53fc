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


# Word beginnings that turn a diagnosis into its opposite or into another one: "hypotension"
# is not a typing error for "hypertension", however close the letters.
OPPOSED_PREFIXES = (("hypo", "hyper"), ("hypo", "normo"), ("hyper", "normo"), ("brady", "tachy"),
                    ("micro", "macro"), ("inter", "intra"), ("pre", "post"), ("ante", "post"),
                    ("endo", "exo"), ("oligo", "poly"), ("mono", "poly"), ("hypo", "a"),
                    ("hyper", "a"), ("dys", "a"), ("hemi", "para"), ("hemi", "quadri"),
                    ("para", "quadri"), ("in", "ex"), ("ab", "ad"), ("hyper", "an"),
                    ("hypo", "an"), ("uni", "bi"))
# Distinct diagnosis words one or two letters apart, each a word in its own right.
LOOKALIKE_WORDS = frozenset(frozenset(p) for p in (
    ("dysphagia", "dysphasia"), ("aphagia", "aphasia"), ("ileum", "ilium"), ("ileus", "ileum"),
    ("perineal", "peroneal"), ("mucous", "mucus"), ("arteritis", "arthritis"),
    ("prostatitis", "prostatism"), ("myelitis", "myositis"), ("nephritis", "neuritis"),
    ("uveitis", "uvulitis"), ("enteritis", "enteritic"), ("cystitis", "cystosis"),
    ("malleus", "malleolus"), ("psychosis", "sycosis"), ("hepatitis", "hepatosis"),
    ("dysthymia", "dystonia"), ("atony", "ataxy"), ("anuria", "enuresis"),
    ("meningitis", "meningioma"), ("keratitis", "keratosis"), ("nephrosis", "neurosis"),
    ("angina", "vagina"), ("cholangitis", "cholecystitis")))


def _opposed(a: str, b: str) -> bool:
    for p, q in OPPOSED_PREFIXES:
        for x, y in ((a, b), (b, a)):
            if x.startswith(p) and y.startswith(q):
                rx, ry = x[len(p):], y[len(q):]
                if rx and ry and fuzz.ratio(rx, ry) >= 80:
                    return True
    return False


def _numeric(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


def lookalike_conflict(query: str, term: str, known: frozenset[str] = frozenset()) -> bool:
    """Whether a fuzzy match of `query` to `term` would read one real diagnosis word as
    another: two different numbers ("stage 5"/"stage 4"), an opposed prefix
    ("hypotension"/"hypertension", "bradycardia"/"tachycardia"), a listed look-alike pair, or
    a query word that is itself a known diagnosis word (`known`:
    the index's vocabulary) standing where the term has a different, similar word. Like drug
    look-alikes, a valid word is taken as itself, never corrected to its neighbour."""
    q, t = stems(query), stems(term)
    for a in q - t:
        for b in t - q:
            # A number is a stage, a type or a count: "CKD stage 5" is not a typing error for
            # "CKD stage 4", nor "type 1" for "type 2".
            if _numeric(a) and _numeric(b):
                return True
            if a == b or fuzz.ratio(a, b) < 70:
                continue
            if (_opposed(a, b) or frozenset((a, b)) in LOOKALIKE_WORDS
                    or (a in known and b in known)):
                return True
    return False


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
    score = float(fuzz.token_sort_ratio(plain(query), plain(term)))
    if score >= 60 and lookalike_conflict(query, term, KNOWN_WORDS):
        return 0.0
    return score


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
    if ratio >= 92 and lookalike_conflict(query, indication, KNOWN_WORDS):
        return 0.0
    return 0.85 * ratio / 100 if ratio >= 92 else 0.0


# Diagnosis words the index knows as words in their own right (concept terms, code texts,
# label indications): set once by the loaded index (CandidateIndex), read by the fuzzy paths.
KNOWN_WORDS: frozenset[str] = frozenset()


def set_known_words(texts) -> None:
    global KNOWN_WORDS
    words_: set[str] = set()
    for t in texts:
        words_ |= {w for w in stems(t) if w.isalpha() and len(w) > 4}
    KNOWN_WORDS = frozenset(words_)
