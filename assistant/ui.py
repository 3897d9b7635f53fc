"""The clinicians' chat (Gradio). Functions here only translate between widgets and Assistant.

State lives in the chat history, exactly as over the API: editing the patient panel appends a
"Correction:" user message, so what the panel shows is always what the conversation says.
Key components carry elem_ids (see ELEM_IDS) so browser tests can find them.
"""

from __future__ import annotations

import html
import logging
import os
import re
import traceback

import gradio as gr
import pandas as pd

from guardrails import Flag
from recommend.schemas import ConsultationResult
from rxassist.errors import RxAssistError
from rxassist.patient_more import optional_lines
from rxassist.severity import SEVERITY_ORDER
from rxassist.patient_text import (DIAGNOSIS_LABEL, PATIENT_LABELS, UNKNOWN, list_text,
                                   pregnant_text, weight_text)

from assistant.core import Assistant
from assistant.dialogue import content_text
from assistant.feedback import VERDICTS, feedback_path, save_feedback
from assistant.render import flag_drugs

log = logging.getLogger("rxassist.ui")


def log_unexpected(exc: BaseException) -> None:
    """Type and code location only: the message could carry patient text."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"
    log.error("internal error in the chat: %s at %s", type(exc).__name__, where)

BANNER = ("**rxassist supports clinicians; it does not replace them.** Suggestions come from a "
          "language model and are checked by rule-based guardrails (allergies, pregnancy and age "
          "contraindications, duplicate ingredients). Every suggestion must be reviewed by the "
          "prescribing clinician. Do not enter names or other identifying details.")
TABLE_COLUMNS = ["#", "Drug", "Ingredients", "Rationale", "Flags"]
ROW_COLOURS = {"critical": "background-color: #fde2e1; color: #7f1d1d; font-weight: 600",
               "warning": "background-color: #fff4ce; color: #713f12",
               "info": "background-color: #e0f2fe; color: #0c4a6e"}
FLAG_COLOURS = {"critical": ("#b91c1c", "#fde2e1"), "warning": ("#a16207", "#fff4ce"),
                "info": ("#0369a1", "#e0f2fe")}
SEX_CHOICES = ["", "female", "male", "unknown"]
PREGNANT_CHOICES = ["", "yes", "no", "unknown"]
ELEM_IDS = ("intended-use", "model-select", "chat", "chat-input", "send", "new-consultation",
            "patient-age", "patient-sex", "patient-pregnant", "patient-weight", "patient-allergies",
            "patient-medications", "patient-diagnosis", "patient-more", "apply-corrections", "flags",
            "recommendations", "feedback-drug", "feedback-verdict", "feedback-comment",
            "feedback-save", "feedback-status")


# -- translating a result into widget values ------------------------------------------------------
def recommendations_table(result: ConsultationResult | None) -> pd.DataFrame:
    rows = []
    severities = []
    for i, r in enumerate(result.recommendations if result else [], 1):
        sev = r.severity
        flags = ", ".join(r.flags)
        rows.append([i, r.drug, ", ".join(r.ingredients) or "not recognised",
                     r.rationale, f"{sev.upper()}: {flags}" if flags else "none"])
        severities.append(sev)
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    if not rows:
        return frame

    def colour(row):
        return [ROW_COLOURS.get(severities[row.name], "")] * len(row)
    return frame.style.apply(colour, axis=1)


def _flag_item(f: Flag, prefix: str = "") -> str:
    fg, bg = FLAG_COLOURS.get(f.severity, ("#111827", "#f3f4f6"))
    basis = f" <small>(basis: {html.escape(f.basis)})</small>" if f.basis else ""
    return (f'<li class="rx-flag rx-flag-{html.escape(f.severity)}" '
            f'style="background:{bg};color:{fg};border-left:6px solid {fg};padding:6px 10px;'
            f'margin:4px 0;list-style:none">{html.escape(prefix)}'
            f'<b>{html.escape(f.severity.upper())} · {html.escape(f.kind)}'
            f'</b> — {html.escape(flag_drugs(f) + ": ") if flag_drugs(f) else ""}'
            f'{html.escape(f.message)}{basis}</li>')


def _excluded_html(result: ConsultationResult) -> str:
    """Candidates the guardrails excluded before the model chose, each with its flag."""
    rows = result.excluded
    if not rows:
        return ""
    items = [_flag_item(e.flags[0], f"{e.drug} excluded: ") for e in rows if e.flags]
    return (f'<div id="flags-excluded"><b>Considered and excluded ({len(rows)})</b>'
            f'<ul style="padding:0;margin:4px 0">{"".join(items)}</ul></div>')


def flags_html(result: ConsultationResult | None) -> str:
    if result is None:
        return ""
    flags = result.flags
    excluded = _excluded_html(result)
    if not flags:
        if result.status == "recommended" and result.recommendations:
            return ('<div id="flags-none" style="padding:6px">No safety flags from the guardrails '
                    'on the recommended drugs.</div>' + excluded)
        return excluded
    items = [_flag_item(f) for f in sorted(flags, key=lambda f: SEVERITY_ORDER.get(f.severity, 3))]
    return (f'<div role="alert"><b>Safety flags ({len(flags)}) — review before prescribing</b>'
            f'<ul style="padding:0;margin:4px 0">{"".join(items)}</ul></div>' + excluded)


def patient_values(result: ConsultationResult | None) -> tuple:
    p = result.patient.model_dump() if result else {}
    unknown = set(result.unknown_fields if result else [])

    def shown(name, text):
        """The field as the prompt writes it; blank when it was never given (not unknown)."""
        if p.get(name) is None:
            return UNKNOWN if name in unknown else ""
        return text(p[name])

    def listed(name):
        return shown(name, list_text)

    sex = shown("sex", str)
    preg = shown("pregnant", pregnant_text)
    dx = result.diagnosis.text if result and result.diagnosis else ""
    return (p.get("age"), sex, preg, p.get("weight_kg"), listed("allergies"),
            listed("current_medications"), dx)


def patient_more_text(result: ConsultationResult | None) -> str:
    """Kidney function, other conditions and breastfeeding when known (read-only; a
    "Correction: eGFR 40" message changes them)."""
    if result is None:
        return ""
    return "  \n".join(escape_markdown(line) for line in optional_lines(result.patient))


def correction_message(result: ConsultationResult | None, age, sex, pregnant, weight, allergies, meds,
                       diagnosis) -> str | None:
    """The panel's changes as one "Correction:" user message, or None when nothing changed."""
    before = patient_values(result)
    after = (age, sex or "", pregnant or "", weight, (allergies or "").strip(),
             (meds or "").strip(), (diagnosis or "").strip())
    labels = [*PATIENT_LABELS.values(), DIAGNOSIS_LABEL]
    lines = []
    for label, old, new in zip(labels, before, after):
        if new in (None, "") or new == old:
            continue
        if label == PATIENT_LABELS["age"]:
            new = f"{new:g} years"    # a fraction stays (the prompt rounds to whole years)
        elif label == PATIENT_LABELS["weight_kg"]:
            new = weight_text(new)
        lines.append(f"{label}: {new}")
    return "Correction:\n" + "\n".join(lines) if lines else None


# The chat renders Markdown. Model and user text inside an answer could carry HTML, links or
# images (`![x](https://...)` would load a remote URL in the clinician's browser), so these
# characters are backslash-escaped for display and unescaped when the history goes back to
# the assistant. Emphasis (**...**) stays: it cannot load or run anything.
_MD_SPECIAL = re.compile(r"([\\`<>\[\]!])")
_MD_ESCAPED = re.compile(r"\\([\\`<>\[\]!])")


def escape_markdown(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def unescape_markdown(text: str) -> str:
    return _MD_ESCAPED.sub(r"\1", text)


def _display(history: list[dict]) -> list[dict]:
    return [{"role": m["role"], "content": escape_markdown(m["content"])} for m in history]


def _history(chat: list[dict] | None) -> list[dict]:
    return [{"role": m["role"], "content": unescape_markdown(content_text(m.get("content")))}
            for m in chat or [] if m.get("role") in ("user", "assistant")]


def build_ui(assistant: Assistant, feedback: bool = False) -> gr.Blocks:
    """The chat. `feedback` adds per-drug feedback stored on this machine (patient summary
    included), so it is off unless `rxassist serve --feedback` asks for it."""
    async def run_turn(text: str, chat, model_id: str):
        history = _history(chat) + [{"role": "user", "content": text}]
        turn = await assistant.respond(history, model=model_id or "rxassist")
        history.append({"role": "assistant", "content": turn.content})
        return history, turn.result

    def outputs_for(history, result: ConsultationResult | None, keep_text=""):
        drugs = [r.drug for r in result.recommendations] if result else []
        return (keep_text, _display(history), result, *patient_values(result),
                patient_more_text(result), flags_html(result),
                recommendations_table(result),
                gr.Dropdown(choices=drugs, value=drugs[0] if drugs else None))

    async def on_send(text, chat, model_id, result):
        if not (text or "").strip():
            return outputs_for(_history(chat), result)
        try:
            history, new = await run_turn(text, chat, model_id)
        except RxAssistError as e:
            gr.Warning(e.message)
            # Nothing is lost: the message stays in the box to retry.
            return outputs_for(_history(chat), result, keep_text=text)
        except Exception as e:  # the UI boundary: Gradio would print the traceback (patient text)
            log_unexpected(e)
            gr.Warning("Internal error; the message is kept, try again.")
            return outputs_for(_history(chat), result, keep_text=text)
        return outputs_for(history, new)

    async def on_correct(chat, model_id, result, age, sex, preg, weight, allergies, meds, dx):
        message = correction_message(result, age, sex, preg, weight, allergies, meds, dx)
        if message is None:
            gr.Info("Nothing changed in the patient panel.")
            return outputs_for(_history(chat), result)
        return await on_send(message, chat, model_id, result)

    def on_new():
        return outputs_for([], None)

    def on_feedback(drug, verdict, comment, result):
        if result is None or not result.recommendations:
            return "No recommendation to give feedback on yet."
        if not drug or not verdict:
            return "Choose a drug and a verdict first."
        try:
            path = save_feedback(result, drug, verdict, comment or "")
        except RxAssistError as e:
            return f"Not saved: {e.message}"
        return f"Saved feedback on **{drug}** ({verdict}) to `{path}`."

    def refresh_models():
        ids = assistant.model_ids()
        return gr.Dropdown(choices=ids, value=ids[0])

    with gr.Blocks(title="rxassist — prescription support", analytics_enabled=False) as demo:
        gr.Markdown(BANNER, elem_id="intended-use")
        result_state = gr.State(None)
        # Flags sit above everything else the answer produces: impossible to miss.
        flags = gr.HTML(elem_id="flags")
        with gr.Row():
            with gr.Column(scale=3):
                model = gr.Dropdown(choices=assistant.model_ids(), value="rxassist",
                                    label="Model (adapter)", elem_id="model-select")
                chat = gr.Chatbot(label="Consultation", elem_id="chat", height=420,
                                  sanitize_html=True, allow_tags=False)
                text = gr.Textbox(label="Message", elem_id="chat-input", lines=2,
                                  placeholder="e.g. 34 yo woman, 20 weeks pregnant, UTI, allergic "
                                              "to sulfa, on levothyroxine")
                with gr.Row():
                    send = gr.Button("Send", variant="primary", elem_id="send")
                    new = gr.Button("New consultation", elem_id="new-consultation")
            with gr.Column(scale=2):
                gr.Markdown("**Patient as understood** — edit and apply to correct")
                age = gr.Number(label="Age (years)", elem_id="patient-age", minimum=0, maximum=130)
                sex = gr.Dropdown(SEX_CHOICES, label="Sex", elem_id="patient-sex")
                preg = gr.Dropdown(PREGNANT_CHOICES, label="Pregnant", elem_id="patient-pregnant")
                weight = gr.Number(label="Weight (kg)", elem_id="patient-weight", minimum=0)
                allergies = gr.Textbox(label="Allergies", elem_id="patient-allergies")
                meds = gr.Textbox(label="Current medications", elem_id="patient-medications")
                dx = gr.Textbox(label="Diagnosis", elem_id="patient-diagnosis")
                more = gr.Markdown(elem_id="patient-more")
                apply = gr.Button("Apply corrections", elem_id="apply-corrections")
        table = gr.Dataframe(headers=TABLE_COLUMNS, label="Recommendations",
                             elem_id="recommendations", interactive=False, wrap=True)
        with gr.Accordion("Feedback on a recommendation", open=True, visible=feedback):
            with gr.Row():
                fb_drug = gr.Dropdown([], label="Drug", elem_id="feedback-drug")
                fb_verdict = gr.Radio(list(VERDICTS), label="Verdict", elem_id="feedback-verdict")
                fb_comment = gr.Textbox(label="Comment", elem_id="feedback-comment")
            fb_save = gr.Button("Save feedback", elem_id="feedback-save")
            fb_status = gr.Markdown(elem_id="feedback-status")
            gr.Markdown(f"Feedback is stored only on this machine, in `{feedback_path()}`.")

        panel = [age, sex, preg, weight, allergies, meds, dx]
        outs = [text, chat, result_state, *panel, more, flags, table, fb_drug]
        send.click(on_send, [text, chat, model, result_state], outs, api_name="send")
        text.submit(on_send, [text, chat, model, result_state], outs, api_name=False)
        apply.click(on_correct, [chat, model, result_state, *panel], outs, api_name="correct")
        new.click(on_new, None, outs, api_name="new")
        if feedback:
            fb_save.click(on_feedback, [fb_drug, fb_verdict, fb_comment, result_state], fb_status,
                          api_name="feedback")
        demo.load(refresh_models, None, model, api_name=False)
    return demo
