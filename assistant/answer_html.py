"""The chat's answer panel as HTML: the same order and grouping as the Markdown reply
(assistant.render), laid out for a screen.

    answer_html(result, lang, reply)   the typed result (None: no answer yet): recommendations (rank, drug, one-line reason, severity
                                       chips, each option's flags under it), excluded drugs
                                       (collapsed, with their count), other flags
    ANSWER_CSS                         wrapping, chips and contrast (WCAG AA on white)

Severity is a word and a colour, never colour alone. A flag's source and its original rule text
(in its own language, marked with `lang`) sit behind "details". Every value is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from typing import Any

from guardrails import Flag
from recommend.schemas import ConsultationResult, ExcludedRow, RecommendationRow

from assistant.flagview import (details_message, flag_line, grouped, kind_label, reason_parts,
                                says_kind, severity_word, sources, worst_first)
from assistant.labels import labels

# Text #111827 on white is 17:1; each chip's text on its own background is at least 6:1.
ANSWER_CSS = """
#answer-body { color: #111827; background: #ffffff; max-width: 100%; overflow-wrap: anywhere;
  word-break: break-word; line-height: 1.45; font-size: 15px; }
#answer-body h2 { font-size: 1.15rem; margin: 0 0 4px 0; color: #111827; }
#answer-body h3 { font-size: 1rem; margin: 12px 0 4px 0; color: #111827; }
#answer-body .rx-note { margin: 0 0 8px 0; color: #374151; font-style: italic; }
#answer-body ol.rx-recs { margin: 0; padding: 0; list-style: none; }
#answer-body li.rx-rec { border: 1px solid #d1d5db; border-radius: 6px; padding: 8px 10px;
  margin: 0 0 8px 0; }
#answer-body .rx-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px; }
#answer-body .rx-rank { font-weight: 700; min-width: 1.5em; }
#answer-body .rx-drug { font-weight: 700; font-size: 1.05rem; }
#answer-body .rx-ingredients { color: #374151; }
#answer-body .rx-reason { margin: 2px 0 4px 0; }
#answer-body .rx-chip { display: inline-block; border-radius: 4px; padding: 0 6px;
  font-size: 0.8rem; font-weight: 700; letter-spacing: 0.02em; border: 1px solid transparent; }
#answer-body .rx-critical { background: #b91c1c; color: #ffffff; }
#answer-body .rx-warning { background: #fde68a; color: #713f12; border-color: #a16207; }
#answer-body .rx-info { background: #e0f2fe; color: #0c4a6e; border-color: #0369a1; }
#answer-body .rx-none { background: #ecfdf5; color: #065f46; border-color: #047857; }
#answer-body ul.rx-flags { margin: 4px 0 0 0; padding: 0; list-style: none; }
#answer-body li.rx-flag { margin: 3px 0; padding: 3px 8px; border-left: 5px solid #6b7280;
  background: #f9fafb; }
#answer-body li.rx-flag.rx-sev-critical { border-left-color: #b91c1c; background: #fef2f2; }
#answer-body li.rx-flag.rx-sev-warning { border-left-color: #a16207; background: #fffbeb; }
#answer-body li.rx-flag.rx-sev-info { border-left-color: #0369a1; background: #f0f9ff; }
#answer-body details > summary { cursor: pointer; color: #1d4ed8; text-decoration: underline; }
#answer-body details.rx-more { display: inline; }
#answer-body details dl { margin: 4px 0; }
#answer-body details dt { font-weight: 600; color: #374151; }
#answer-body details dd { margin: 0 0 4px 12px; }
#answer-body details#excluded > summary, #answer-body #other-flags h3 { font-weight: 700;
  color: #111827; text-decoration: none; }
#answer-body .rx-message p { margin: 0 0 4px 0; }
"""

# Page-wide rules (the answer's own CSS is scoped to it): the primary button and Gradio's footer
# links in colours that reach WCAG AA (4.5:1) on their backgrounds; the default orange does not.
PAGE_CSS = """
#send, #send button { background: #1d4ed8 !important; border-color: #1e40af !important;
  color: #ffffff !important; }
#send:hover { background: #1e40af !important; }
footer, footer a, footer button, footer .show-api, footer .settings { color: #374151 !important; }
"""

_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|_(.+?)_")
_MD_ESCAPED = re.compile(r"\\([\\`<>\[\]!])")


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def chip(severity: str | None, lang: str, count: int | None = None) -> str:
    word = severity_word(severity, lang)
    shown = f"{word} ×{count}" if count and count > 1 else word
    return f'<span class="rx-chip rx-{esc(severity or "info")}">{esc(shown)}</span>'


def _details(flag: Flag, lang: str) -> str:
    lab = labels(lang)
    rows = []
    message = details_message(flag, lang)
    if message:
        english = lab["language_name"]["en"]
        rows.append(f'<dt>{esc(lab["message_original"].format(language=english))}'
                    f'</dt><dd lang="en">{esc(message)}</dd>')
    for s in sources(flag):
        rows.append(f'<dt>{esc(lab["source"])}</dt><dd lang="{esc(s.citation_language)}">'
                    f'{esc(s.citation)}</dd>')
        if s.original:
            language = lab["language_name"].get(s.language, s.language)
            rows.append(f'<dt>{esc(lab["original_text"].format(language=language))}</dt>'
                        f'<dd lang="{esc(s.language)}" class="rx-original">{esc(s.original)}</dd>')
    if not rows:
        return ""
    return (f' <details class="rx-more"><summary>{esc(lab["details"])}</summary>'
            f'<dl>{"".join(rows)}</dl></details>')


def flag_item(flag: Flag, lang: str, drug: str | None = None,
              subject: str | None = None) -> str:
    """One flag, one line: severity chip, kind, the line; `subject` names the drug it is about
    where the list does not (excluded drugs)."""
    sev = flag.severity or "info"
    about = f"<b>{esc(subject)}</b>: " if subject else ""
    kind = ("" if says_kind(flag, lang) else
            f'<span class="rx-kind">{esc(kind_label(flag.kind, lang))}</span> — ')
    return (f'<li class="rx-flag rx-sev-{esc(sev)}">{chip(sev, lang)} '
            f'{kind}{about}<span class="rx-line">{esc(flag_line(flag, lang, drug))}</span>'
            f'{_details(flag, lang)}</li>')


def _chips(flags: list[Flag], lang: str) -> str:
    counts: dict[str, int] = {}
    for f in worst_first(flags):
        counts[f.severity or "info"] = counts.get(f.severity or "info", 0) + 1
    if not counts:
        return f'<span class="rx-chip rx-none">{esc(labels(lang)["no_flags_for_drug"])}</span>'
    return " ".join(chip(sev, lang, n) for sev, n in counts.items())


def _recommendation(rank: int, rec: RecommendationRow, mine: list[Flag], lang: str) -> str:
    lab = labels(lang)
    ingredients = ", ".join(rec.ingredients) or lab["ingredients_unknown"]
    shown = ("" if ingredients == rec.drug.replace("; ", ", ")
             else f' <span class="rx-ingredients">({esc(ingredients)})</span>')
    reason, rest = reason_parts(rec.rationale)
    evidence = (f'<details class="rx-evidence"><summary>{esc(lab["evidence"])}</summary>'
                f'<p>{esc(rest)}</p></details>' if rest else "")
    flags = (f'<ul class="rx-flags" aria-label="{esc(lab["ui"]["flags"])}: {esc(rec.drug)}">'
             f'{"".join(flag_item(f, lang, rec.drug) for f in mine)}</ul>' if mine else "")
    return (f'<li class="rx-rec" data-rank="{rank}"><div class="rx-head">'
            f'<span class="rx-rank">{rank}.</span> <span class="rx-drug">{esc(rec.drug)}</span>'
            f'{shown} {_chips(mine, lang)}</div>'
            f'<p class="rx-reason">{esc(reason or lab["no_rationale"])}</p>{evidence}{flags}</li>')


def _excluded(excluded: list[ExcludedRow], lang: str) -> str:
    if not excluded:
        return ""
    lab = labels(lang)
    items = []
    for e in excluded:
        flags = worst_first(e.flags)
        if flags:
            items.append(flag_item(flags[0], lang, e.drug, subject=e.drug))
        else:
            items.append(f'<li class="rx-flag"><b>{esc(e.drug)}</b>: {esc(e.reason)}</li>')
    return (f'<details id="excluded"><summary>{esc(lab["excluded"].format(n=len(excluded)))}'
            f'</summary><ul class="rx-flags">{"".join(items)}</ul></details>')


def _others(flags: list[Flag], lang: str) -> str:
    if not flags:
        return ""
    title = labels(lang)["other_flags"].format(n=len(flags))
    return (f'<section id="other-flags"><h3>{esc(title)}</h3><ul class="rx-flags">'
            f'{"".join(flag_item(f, lang) for f in flags)}</ul></section>')


def _reply_text(reply: str) -> str:
    """A short reply (a question, a refusal) as paragraphs: Markdown emphasis and escapes
    removed, then HTML-escaped."""
    paragraphs = []
    for line in (reply or "").splitlines():
        if line.strip():
            plain = _MD_ESCAPED.sub(r"\1", _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), line))
            paragraphs.append(f"<p>{esc(plain)}</p>")
    return f'<div class="rx-message">{"".join(paragraphs)}</div>'


def answer_html(result: ConsultationResult | None, lang: str = "en", reply: str = "") -> str:
    lab = labels(lang)
    status = result.status if result else None
    if not status:
        body = f'<p class="rx-note">{esc(lab["ui"]["answer_empty"])}</p>'
    elif status == "recommended" and result.recommendations:
        recs = result.recommendations
        per_drug, others = grouped(recs, result.flags)
        options = enumerate(zip(recs, per_drug), 1)
        dx = (result.diagnosis.text if result.diagnosis else None) or lab["this_diagnosis"]
        body = (f'<h2>{esc(lab["recommendations_for"].format(diagnosis=dx))}</h2>'
                f'<p class="rx-note">{esc(lab["alternatives_note"])}</p>'
                f'<ol id="recommendations" class="rx-recs">'
                f'{"".join(_recommendation(i, r, m, lang) for i, (r, m) in options)}'
                f'</ol>{_excluded(result.excluded, lang)}{_others(others, lang)}')
    elif status in ("recommended", "nothing_survives"):
        # No option to show: the reply says why; exclusions and flags follow as for an answer.
        first = (reply or "").split("\n\n")[0]
        body = (_reply_text(first) + _excluded(result.excluded, lang)
                + _others(worst_first(result.flags), lang))
    else:
        body = _reply_text(reply.split("\n\n")[0] if status == "recommended" else reply)
    return (f'<section id="answer-body" lang="{esc(lang)}" aria-label="{esc(lab["ui"]["answer"])}"'
            f' aria-live="polite">{body}</section>')
