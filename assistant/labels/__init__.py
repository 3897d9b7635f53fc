"""Every fixed string a clinician reads (reply headings, questions, severity words, UI labels),
one JSON file per language: a new language is one new file with the same keys as en.json.

    language_of(texts)        "ko" when the consultation's own words contain Hangul, else "en"
    labels(lang)              the catalogue for `lang` (en.json for a language without a file)
    text_language(text)       best guess of the language a source text is written in
                              ("fr", "ko" or "en"), to mark it as such behind "details"
    note_text(kind, lang, **args)   a reading note ("notes" in the catalogue) in `lang`: the
                              reader records the English one (the API's `notes`) with its kind
                              and arguments, so a Korean reply can say it in Korean
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

HERE = Path(__file__).resolve().parent
DEFAULT = "en"
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
# Frequent French function words and the accents English clinical text does not use: enough
# to tell the French rule texts (ANSM thesaurus) from English ones.
_FRENCH = re.compile(r"[éèêàçùôœ]|\b(les|des|avec|du|une|et|est|pour|sur|dans|au|aux|"
                     r"association|déconseillée|deconseillee|précaution|surveillance)\b", re.I)


def languages() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.json"))


@lru_cache(maxsize=None)
def labels(lang: str = DEFAULT) -> dict[str, Any]:
    path = HERE / f"{lang}.json"
    if not path.exists():
        path = HERE / f"{DEFAULT}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def language_of(texts: Iterable[str]) -> str:
    """The reply's language: Korean as soon as the clinician writes Hangul in any turn (drug
    names, doses and the UI's "Correction:" turns are Latin in both languages)."""
    return "ko" if any(_HANGUL.search(t or "") for t in texts) else DEFAULT


def text_language(text: str) -> str:
    if _HANGUL.search(text):
        return "ko"
    return "fr" if len(_FRENCH.findall(text)) >= 2 else "en"


def asked_fields(text: str) -> set[str]:
    """The fields a "Still needed:" line of any catalogue's language asks for."""
    asked: set[str] = set()
    for lang in languages():
        lab = labels(lang)
        marker = lab["still_needed"]
        for line in (text or "").splitlines():
            if marker in line:
                rest = line.split(marker, 1)[1].lower()
                asked |= {f for f, q in lab["questions"].items()
                          if q.split(" (")[0].lower() in rest}
    return asked


# Note arguments that name a field ("egfr", "pregnant"): shown with the catalogue's word for it.
_FIELD_ARGS = ("field", "as_field", "kept_field")


def _shown(value: Any, lab: dict[str, Any]) -> str:
    if isinstance(value, bool):       # the only boolean field is the pregnancy status
        return lab["patient"]["pregnant" if value else "not_pregnant"]
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def note_text(kind: str, lang: str = DEFAULT, **args: Any) -> str:
    """A reading note of a catalogued kind, in `lang`. A kind missing from the catalogue is a
    KeyError: every note the reader writes must be sayable in every language."""
    lab = labels(lang)
    fields = lab["note_fields"]
    shown = {k: fields.get(str(v), str(v)) if k in _FIELD_ARGS else _shown(v, lab)
             for k, v in args.items()}
    return lab["notes"][kind].format(**shown)
