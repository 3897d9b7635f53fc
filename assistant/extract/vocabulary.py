"""The extractor's word lists (assistant/data/extract_vocabulary.json) and the answer words every
field shares ("unknown", "none", "yes", "no")."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    path = resources.files("assistant").joinpath("data/extract_vocabulary.json")
    return json.loads(path.read_text(encoding="utf-8"))


def alternation(name: str) -> str:
    """A word list of the vocabulary as a regular-expression alternation, in file order."""
    return "|".join(vocabulary()[name])


def words(*names: str) -> str:
    """Alternation of the listed sex-word groups, for a regular expression."""
    groups = vocabulary()["sex_words"]
    return "|".join(w for n in names for w in groups[n])


UNKNOWN_WORDS = (r"(?:unknown|not known|unk|not recorded|not documented|undocumented|unrecorded|"
                 r"unavailable|not available|unclear|uncertain|unsure|not sure|n/?a|"
                 r"don'?t know|do not know|no idea|no info(?:rmation)?|not given|not stated|"
                 r"not specified|unspecified|\?+)")
NONE_WORDS = (r"(?:none|nil|no|nothing|nkda|nka|nkma|none known|no known(?: drug)? allergies|"
              r"no allergies|no meds|no medications?)")
UNKNOWN_RE = re.compile(rf"^\s*(?:it'?s |is |are |status )?{UNKNOWN_WORDS}\s*[.!]?\s*$", re.I)
NONE_RE = re.compile(rf"^\s*{NONE_WORDS}\s*[.!]?\s*$", re.I)
YES_RE = re.compile(r"^\s*(?:yes|y|yeah|yep|true|she is|pregnant|positive)\s*[.!]?\s*$", re.I)
NO_RE = re.compile(r"^\s*(?:no|n|nope|false|not pregnant|negative|she is not|she's not|she isn'?t|"
                   r"not)\s*[.!]?\s*$", re.I)
PROCEED_RE = re.compile(r"^\s*(?:just |please )?(?:proceed|go ahead|continue|skip(?: it| that)?|"
                        r"recommend anyway|go on|carry on)(?: anyway| without it| please)?\s*[.!]?\s*$",
                        re.I)
NUMBER_RE = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*$")


def unknownish(value: str) -> bool:
    return bool(UNKNOWN_RE.match(value))
