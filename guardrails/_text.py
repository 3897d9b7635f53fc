"""Turning what people write into lookup keys.

A key is lowercase ASCII words separated by single spaces. Dose, strength, form, route and
package text ("20 mg tablet", "(Syringe)", "28 Day Pack", "Oral Tablet [Tylenol]") carries no
identity, so `strip_dose_form` removes it before the name is looked up.
"""

from __future__ import annotations

import re
import unicodedata

# Words that describe how a product is given or packed, never what it contains.
FORM_WORDS = frozenset("""
    tablet tablets tab tabs capsule capsules cap caps caplet caplets oral chewable
    disintegrating dispersible effervescent sublingual buccal delayed extended release released
    immediate sustained controlled modified er xr xl sr cr dr ir la cd odt ec
    injection injectable injectables inj solution soln suspension syrup elixir liquid drops
    drop cream ointment gel lotion foam shampoo spray nasal inhaler inhalation inhalant
    aerosol powder nebulizer nebulized metered dose dry topical ophthalmic otic rectal vaginal
    suppository suppositories patch transdermal system film implant intrauterine device
    syringe prefilled autoinjector auto injector pen cartridge vial ampule kit pack day days
    hr hour hours mg mcg ug g gm ml l unt unit units iu meq actuat actuation actuations puff
    puffs percent mucosal lozenge troche gum wafer granules packet sachet pellet enema
    concentrate emulsion tincture pump chewables abuse deterrent per drug human
    po bid tid qid qd qod qhs hs prn daily nightly weekly monthly q4h q6h q8h q12h q24h sig
    eye eyes ear ears skin gtt gtts collyre
""".split())

_DOSE_RE = re.compile(r"\b\d+(?:[.,]\d+)?(?:\s*(?:/|-)\s*\d+(?:[.,]\d+)?)*\s*%?")
_CODE_RE = re.compile(r"\b(?:nda|anda|bla)\d+\b")
_BRACKET_RE = re.compile(r"\[[^\]]*\]|\([^)]*\)|\{[^}]*\}")
_NON_WORD_RE = re.compile(r"[^a-z0-9;/+,\- ]+")
_SPACE_RE = re.compile(r"\s+")

# Separators between the parts of a combination product, strongest first. A hyphen is tried
# last and only when the whole name is unknown ("Albuterol Sulfate-Ipratropium").
COMBO_SPLIT_RE = re.compile(r"\s*(?:;|/|\+|,|\band\b|\bwith\b|\bplus\b|&)\s*")
HYPHEN_SPLIT_RE = re.compile(r"\s*-\s*")


def fold(text: str) -> str:
    """Lowercase ASCII, accents removed, every run of whitespace one space."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SPACE_RE.sub(" ", text.lower()).strip()


def key(text: str) -> str:
    """The dictionary key of a name: letters and digits only, single spaces."""
    return _SPACE_RE.sub(" ", re.sub(r"[^a-z0-9]+", " ", fold(text))).strip()


def bracket_contents(text: str) -> list[str]:
    """Text inside [..] in RxNorm-style names: the brand ("... Oral Tablet [Tylenol]")."""
    return [m.group(0)[1:-1].strip() for m in re.finditer(r"\[[^\]]*\]", text)]


def strip_dose_form(text: str) -> str:
    """Remove strengths, forms, routes, codes and bracketed notes; keep separators."""
    t = fold(text)
    t = _BRACKET_RE.sub(" ", t)
    t = _CODE_RE.sub(" ", t)
    t = _DOSE_RE.sub(" ", t)
    t = _NON_WORD_RE.sub(" ", t)
    t = re.sub(r"([;/+,])", r" \1 ", t)
    # "Auto-Injector", "Abuse-Deterrent": hyphenated form words go too.
    words = [w for w in t.split(" ")
             if w and not all(p in FORM_WORDS or not p for p in w.split("-"))]
    t = " ".join(words)
    # Separators left dangling by removed doses ("a / / b", "/ a") collapse.
    t = re.sub(r"([;/+,])(?:\s*[;/+,])+", r"\1", t)
    t = re.sub(r"^[\s;/+,\-]+|[\s;/+,\-]+$", "", t)
    return _SPACE_RE.sub(" ", t).strip()
