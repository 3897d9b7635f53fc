"""How a flag reaches the clinician: under the drug it concerns, one line in the consultation's
language, its source and original rule text kept apart for "details".

Shared by the Markdown reply (assistant.render), the chat's HTML (assistant.answer_html) and
the chart summary (assistant.chart), so all three group and word flags the same way. They read
the typed result (recommend.schemas); only the API turns it into JSON.

    grouped(recs, flags)      (each recommendation's flags, the flags no recommendation owns)
    flag_line(flag, lang, drug)   the visible line, without the severity word
    sources(flag)             [Source(citation, original, language)] from the flag's basis
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guardrails import Flag
from recommend.schemas import RecommendationRow
from assistant.labels import labels, text_language
from rxassist.severity import SEVERITY_ORDER

_ALSO_LISTED = re.compile(r"\s*Also listed by: [^.]*\.?")


@dataclass(frozen=True)
class Source:
    citation: str          # who says so: "AGS Beers Criteria 2023", "ANSM Thesaurus (2020)"
    original: str          # the rule's own words, possibly in another language
    language: str          # of `original` ("en", "fr", "ko")
    citation_language: str


def worst_first(flags: list[Flag]) -> list[Flag]:
    return sorted(flags, key=lambda f: SEVERITY_ORDER.get(f.severity, 3))


def concerns(flag: Flag, rec: RecommendationRow) -> bool:
    """Whether `flag` is about recommendation `rec` (by name or by one of its ingredients)."""
    return (rec.drug in flag.drugs
            or (flag.ingredient is not None and flag.ingredient in rec.ingredients))


def grouped(recs: list[RecommendationRow],
            flags: list[Flag]) -> tuple[list[list[Flag]], list[Flag]]:
    per_drug = [worst_first([f for f in flags if concerns(f, r)]) for r in recs]
    # By position, not identity or equality: the same finding may stand in the list twice.
    others = [f for f in flags if not any(concerns(f, r) for r in recs)]
    return per_drug, worst_first(others)


def severity_word(severity: str | None, lang: str) -> str:
    words = labels(lang)["severity"]
    return words.get(severity or "", str(severity or "").upper())


def kind_label(kind: str | None, lang: str) -> str:
    kinds = labels(lang)["kind"]
    return kinds.get(kind or "", kinds["other"])


def flag_line(flag: Flag, lang: str, drug: str | None = None) -> str:
    """The flag in one line. English keeps the guardrails' own message (written for clinicians);
    another language gets its catalogue's phrase for the kind, naming the other drugs involved,
    and the English message goes behind "details" (see `details_message`)."""
    if lang == "en":
        message = flag.message or kind_label(flag.kind, lang)
        # Which other database also lists the pair is for "details", not for the line.
        return _ALSO_LISTED.sub("", message).strip()
    others = [d for d in flag.drugs if d != drug] or (
        [flag.ingredient] if flag.ingredient and flag.ingredient != drug else [])
    template = labels(lang)["kind_line"].get(flag.kind or "",
                                             labels(lang)["kind_line"]["other"])
    line = template.format(drugs=", ".join(others) or drug or "")
    if "{drugs}" not in template and others:
        line += f": {', '.join(others)}"
    return line


def line_with_reason(flag: Flag, lang: str, drug: str | None = None) -> str:
    """The one-line flag for a reply without "details" (Markdown): another language's phrase
    for the kind keeps the guardrails' own reason beside it, in English, because a kind alone
    ("older adult") does not say what to weigh."""
    line = flag_line(flag, lang, drug)
    if lang == "en" or not flag.message:
        return line
    reason = _ALSO_LISTED.sub("", flag.message).strip()
    for name in (drug, flag.ingredient):
        if name and reason.casefold().startswith(f"{name.casefold()}: "):
            reason = reason[len(name) + 2:]
            break
    return f"{line} — {reason}"


def details_message(flag: Flag, lang: str) -> str | None:
    """The guardrails' whole message when the visible line is not all of it, else None."""
    message = flag.message or None
    return None if message is None or flag_line(flag, lang) == message else message


def says_kind(flag: Flag, lang: str) -> bool:
    """Whether the visible line already starts with the flag's kind ("Interaction ...")."""
    return flag_line(flag, lang).lower().startswith(kind_label(flag.kind, lang).lower())


def reason_parts(rationale: str) -> tuple[str, str]:
    """(the one-line reason, the rest of the evidence): the rationale's first "; "-separated
    item outside parentheses, and what follows it."""
    depth = 0
    for i, ch in enumerate(rationale):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and rationale.startswith("; ", i):
            return rationale[:i], rationale[i + 2:]
    return rationale, ""


def sources(flag: Flag) -> list[Source]:
    """The basis split into its sources: "<citation>, entry <ENTRY>: <text>" (interaction
    tables) or "<citation>: <text>"; several sources are joined by " | "."""
    out = []
    for part in (flag.basis or "").split(" | "):
        part = part.strip()
        if not part:
            continue
        if ", entry " in part:
            citation, original = part.split(", entry ", 1)
        elif ": " in part:
            citation, original = part.split(": ", 1)
        else:
            citation, original = part, ""
        out.append(Source(citation.strip(), original.strip(), text_language(original),
                          text_language(citation)))
    return out
