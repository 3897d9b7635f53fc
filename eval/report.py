"""`rxassist eval report`: the source paper's table and the extra metrics, for any number of runs.

Markdown (printed and written) and a self-contained HTML page whose bar charts are inline SVG,
so the report needs no plotting library and opens anywhere.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Sequence

from rxassist.errors import InvalidInput, NotFound

from eval.config import IN_PROCESS_TARGETS

PAPER_COLUMNS = [("adapter", "Adapter"), ("rank", "Rank"), ("step", "Step"),
                 ("n_cases", "Cases"), ("output_rate", "Output rate"),
                 ("accuracy", "Accuracy"), ("appropriateness", "Appropriateness")]
EXTRA_COLUMNS = [("ingredient_accuracy", "Ingredient acc."), ("recall", "Recall"),
                 ("jaccard", "Jaccard"), ("f1", "F1"), ("duplicate_rate", "Duplicate rate"),
                 ("reference_appropriateness", "Reference appr."),
                 ("judge_n_unscored", "Judge unscored"),
                 ("outside_candidates", "Outside candidates"), ("mean_recommended", "Mean k"),
                 ("prompt_tokens_per_case", "Prompt tok./case"),
                 ("completion_tokens_per_case", "Answer tok./case")]
PLOTTED = ["output_rate", "accuracy", "ingredient_accuracy", "appropriateness",
           "reference_appropriateness", "f1"]
_RANK = re.compile(r"(?:^|[-_/.])r(?:ank)?[-_]?(\d+)(?=$|[-_/.])", re.I)
_STEP = re.compile(r"(?:checkpoint|ckpt|step)[-_]?(\d+)", re.I)


def load_run(run_dir: Path) -> dict:
    path = run_dir / "metrics.json"
    if not path.is_file():
        raise NotFound(f"{path} does not exist (is {run_dir} an `rxassist eval run` folder?)")
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InvalidInput(f"{path} is not valid JSON ({e.msg})") from None
    return describe({"run": run_dir.name or str(run_dir), **metrics})


def describe(m: dict) -> dict:
    """Fill adapter / rank / step from the model name when the run did not label them."""
    m = dict(m)
    name = str(m.get("model") or "")
    if m.get("target") in IN_PROCESS_TARGETS:
        m.setdefault("adapter", None)
        m["adapter"] = m["adapter"] or f"{m['target']} baseline"
    if m.get("rank") is None and (hit := _RANK.search(name)):
        m["rank"] = int(hit.group(1))
    if m.get("step") is None and (hit := _STEP.search(name)):
        m["step"] = int(hit.group(1))
    if not m.get("adapter"):
        m["adapter"] = _STEP.sub("", name).strip("-_/.") if (m.get("rank") or m.get("step")) \
            else ("assistant" if m.get("target") == "assistant" else "base (no adapter)")
    return m


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|")


def markdown_table(runs: Sequence[dict]) -> str:
    runs = [describe(r) for r in runs]
    head = ["Run", "Model"] + [t for _, t in PAPER_COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        lines.append("| " + " | ".join([_cell(r.get("run")), _cell(r.get("model"))]
                                       + [_cell(r.get(k)) for k, _ in PAPER_COLUMNS]) + " |")
    head2 = ["Run"] + [t for _, t in EXTRA_COLUMNS]
    lines += ["", "| " + " | ".join(head2) + " |", "|" + "---|" * len(head2)]
    for r in runs:
        lines.append("| " + " | ".join([_cell(r.get("run"))]
                                       + [_cell(r.get(k)) for k, _ in EXTRA_COLUMNS]) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(runs: Sequence[dict]) -> str:
    return ("# rxassist evaluation\n\nOutput rate, accuracy and appropriateness as in the source "
            "paper (appropriateness: LLM judge; – = no judge). Reference appr. is the offline "
            "reference judge (open indication data + training-split prescribing), reported "
            "apart.\n\n" + markdown_table(runs))


def bar_chart_svg(title: str, labels: Sequence[str], values: Sequence[float | None]) -> str:
    width, bar_h, gap, left = 640, 22, 8, 220
    height = 40 + len(labels) * (bar_h + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}">',
             f'<text x="4" y="18" font-size="14" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 32 + i * (bar_h + gap)
        parts.append(f'<text x="4" y="{y + 16}" font-size="12">{html.escape(label[:32])}</text>')
        if value is None:
            parts.append(f'<text x="{left}" y="{y + 16}" font-size="12" fill="#888">n/a</text>')
            continue
        w = max(0.0, min(1.0, float(value))) * (width - left - 60)
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                     f'fill="#3b6ea5"><title>{html.escape(label)}: {value:.3f}</title></rect>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 16}" font-size="12">'
                     f'{value:.3f}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_html(runs: Sequence[dict]) -> str:
    runs = [describe(r) for r in runs]
    cols = [("run", "Run"), ("model", "Model")] + PAPER_COLUMNS + EXTRA_COLUMNS
    rows = "\n".join("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(k)))}</td>" for k, _ in cols)
                     + "</tr>" for r in runs)
    header = "".join(f"<th>{html.escape(t)}</th>" for _, t in cols)
    labels = [str(r.get("run")) for r in runs]
    charts = "\n".join(f"<figure>{bar_chart_svg(k, labels, [r.get(k) for r in runs])}</figure>"
                       for k in PLOTTED)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rxassist evaluation</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} figure{{margin:1em 0}}</style>
</head><body><h1>rxassist evaluation</h1>
<p>Output rate, accuracy and appropriateness as in the source paper (appropriateness: LLM judge).
Reference appr. is the offline reference judge, reported apart.</p>
<table><thead><tr>{header}</tr></thead><tbody>
{rows}
</tbody></table>
{charts}
</body></html>
"""


def write_report(run_dirs: Sequence[Path], out_dir: Path) -> str:
    runs = [load_run(Path(d)) for d in run_dirs]
    out_dir.mkdir(parents=True, exist_ok=True)
    md = render_markdown(runs)
    (out_dir / "report.md").write_text(md, encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(runs), encoding="utf-8")
    return md
