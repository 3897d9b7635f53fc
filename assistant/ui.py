"""The clinicians' chat (Gradio). Functions here only translate between widgets and Assistant.

State lives in the chat history, exactly as over the API: editing the patient panel appends a
"Correction:" user message, so what the panel shows is always what the conversation says.
Key components carry elem_ids (see ELEM_IDS) so browser tests can find them.
"""

from __future__ import annotations

import logging
import os
import re
import traceback

import gradio as gr

from recommend.schemas import ConsultationResult
from rxassist.cases import Patient
from rxassist.errors import RxAssistError
from rxassist.patient_more import optional_lines
from rxassist.patient_text import (DIAGNOSIS_LABEL, PATIENT_LABELS, UNKNOWN, list_text,
                                   pregnant_text, weight_text)

from assistant.core import Assistant
from assistant.messages import join_parts
from assistant.feedback import VERDICTS, feedback_path, save_feedback
from assistant.answer_html import ANSWER_CSS, PAGE_CSS, answer_html
from assistant.chart import chart_summary
from assistant.labels import DEFAULT, labels, language_of

log = logging.getLogger("rxassist.ui")


def log_unexpected(exc: BaseException) -> None:
    """Type and code location only: the message could carry patient text."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"
    log.error("internal error in the chat: %s at %s", type(exc).__name__, where)

# Fixed strings live in the label catalogue (assistant/labels/<lang>.json).
BANNER = labels(DEFAULT)["ui"]["banner"]
SEX_CHOICES = ["", "female", "male", "unknown"]
PREGNANT_CHOICES = ["", "yes", "no", "unknown"]
ELEM_IDS = ("intended-use", "answer", "copy-summary", "chart-summary", "model-select", "chat",
            "chat-input", "send", "new-consultation", "patient-age", "patient-sex",
            "patient-pregnant", "patient-weight", "patient-allergies", "patient-medications",
            "patient-diagnosis", "apply-corrections", "feedback-drug", "feedback-verdict",
            "feedback-comment", "feedback-save", "feedback-status")
# After an answer the page returns to the top, where the answer starts (the message box sits
# below it). The clipboard is written by the browser: the summary never travels elsewhere.
_TO_TOP_JS = "() => { window.scrollTo(0, 0); }"
_COPY_JS = ("async (summary) => { if (summary) { try {"
            " await navigator.clipboard.writeText(summary);"
            " } catch (e) { console.warn('clipboard unavailable'); } } return []; }")


def consultation_language(history: list[dict]) -> str:
    return language_of(m["content"] for m in history if m["role"] == "user")


def last_reply(history: list[dict]) -> str:
    return next((m["content"] for m in reversed(history) if m["role"] == "assistant"), "")


def patient_values(result: ConsultationResult | None) -> tuple:
    p = result.patient if result else Patient()
    unknown = set(result.unknown_fields if result else [])

    def shown(name, text):
        """The field as the prompt writes it; blank when it was never given (not unknown)."""
        value = getattr(p, name)
        if value is None:
            return UNKNOWN if name in unknown else ""
        return text(value)

    def listed(name):
        return shown(name, list_text)

    sex = shown("sex", str)
    preg = shown("pregnant", pregnant_text)
    dx = result.diagnosis.text if result and result.diagnosis else ""
    return (p.age, sex, preg, p.weight_kg, listed("allergies"),
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


# The assistant's replies escape every user, model and source string themselves
# (assistant.render.md), so they are shown as they are; the user's own turns are escaped here.
def _display(history: list[dict]) -> list[dict]:
    return [{"role": m["role"],
             "content": escape_markdown(m["content"]) if m["role"] == "user" else m["content"]}
            for m in history]


def _history(chat: list[dict] | None) -> list[dict]:
    out = []
    for m in chat or []:
        if m.get("role") not in ("user", "assistant"):
            continue
        text = join_parts(m.get("content"))
        out.append({"role": m["role"],
                    "content": unescape_markdown(text) if m["role"] == "user" else text})
    return out


def build_ui(assistant: Assistant, feedback: bool = False, lang: str = DEFAULT) -> gr.Blocks:
    """The chat. `feedback` adds per-drug feedback stored on this machine (patient summary
    included), so it is off unless `rxassist serve --feedback` asks for it. `lang` picks the
    controls' labels; each answer is shown in its own consultation's language.

    The screen, top to bottom: the answer (options with their flags, excluded drugs collapsed,
    other flags) with the patient panel beside it, the message box, then the conversation."""
    ui = labels(lang)["ui"]

    async def run_turn(text: str, chat, model_id: str):
        history = _history(chat) + [{"role": "user", "content": text}]
        turn = await assistant.respond(history, model=model_id or "rxassist")
        history.append({"role": "assistant", "content": turn.content})
        return history, turn.result

    def outputs_for(history, result: ConsultationResult | None, keep_text=""):
        drugs = [r.drug for r in result.recommendations] if result else []
        answer_lang = consultation_language(history) if history else lang
        return (keep_text, _display(history), result, *patient_values(result),
                answer_html(result, answer_lang, last_reply(history)),
                chart_summary(result, answer_lang),
                gr.Dropdown(choices=drugs, value=drugs[0] if drugs else None),
                patient_more_text(result))

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

    with gr.Blocks(title=ui["title"], analytics_enabled=False) as demo:
        gr.Markdown(ui["banner"], elem_id="intended-use")
        result_state = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=480):
                answer = gr.HTML(answer_html(None, lang), elem_id="answer", label=ui["answer"],
                                 css_template=ANSWER_CSS, padding=False,
                                 head=f"<style>{PAGE_CSS}</style>")
                text = gr.Textbox(label=ui["message"], elem_id="chat-input", lines=1, max_lines=8,
                                  placeholder=ui["placeholder"])
                with gr.Row():
                    send = gr.Button(ui["send"], variant="primary", elem_id="send")
                    copy = gr.Button(ui["copy"], elem_id="copy-summary")
                    new = gr.Button(ui["new"], elem_id="new-consultation")
                with gr.Accordion(ui["chart_summary"], open=False):
                    summary = gr.Textbox(label=ui["chart_summary"], elem_id="chart-summary",
                                         lines=6, interactive=False, buttons=["copy"])
            with gr.Column(scale=2, min_width=320):
                gr.Markdown(ui["patient_panel"])
                age = gr.Number(label=ui["age"], elem_id="patient-age", minimum=0, maximum=130)
                sex = gr.Dropdown(SEX_CHOICES, label=ui["sex"], elem_id="patient-sex")
                preg = gr.Dropdown(PREGNANT_CHOICES, label=ui["pregnant"],
                                   elem_id="patient-pregnant")
                weight = gr.Number(label=ui["weight"], elem_id="patient-weight", minimum=0)
                allergies = gr.Textbox(label=ui["allergies"], elem_id="patient-allergies")
                meds = gr.Textbox(label=ui["medications"], elem_id="patient-medications")
                dx = gr.Textbox(label=ui["diagnosis"], elem_id="patient-diagnosis")
                more = gr.Markdown(elem_id="patient-more")
                apply = gr.Button(ui["apply"], elem_id="apply-corrections")
        # No "share" button: it would post the consultation to Hugging Face.
        chat = gr.Chatbot(label=ui["conversation"], elem_id="chat", height=360,
                          buttons=["copy", "copy_all"],
                          sanitize_html=True, allow_tags=False)
        model = gr.Dropdown(choices=assistant.model_ids(), value="rxassist",
                            label=ui["model"], elem_id="model-select")
        with gr.Accordion(ui["feedback"], open=True, visible=feedback):
            with gr.Row():
                fb_drug = gr.Dropdown([], label=ui["feedback_drug"], elem_id="feedback-drug")
                fb_verdict = gr.Radio(list(VERDICTS), label=ui["feedback_verdict"],
                                      elem_id="feedback-verdict")
                fb_comment = gr.Textbox(label=ui["feedback_comment"], elem_id="feedback-comment")
            fb_save = gr.Button(ui["feedback_save"], elem_id="feedback-save")
            fb_status = gr.Markdown(elem_id="feedback-status")
            gr.Markdown(f"Feedback is stored only on this machine, in `{feedback_path()}`.")

        panel = [age, sex, preg, weight, allergies, meds, dx]
        outs = [text, chat, result_state, *panel, answer, summary, fb_drug, more]
        send.click(on_send, [text, chat, model, result_state], outs, api_name="send").then(
            None, None, None, js=_TO_TOP_JS)
        text.submit(on_send, [text, chat, model, result_state], outs, api_name=False).then(
            None, None, None, js=_TO_TOP_JS)
        apply.click(on_correct, [chat, model, result_state, *panel], outs, api_name="correct")
        new.click(on_new, None, outs, api_name="new")
        copy.click(None, [summary], None, js=_COPY_JS, api_name=False)
        if feedback:
            fb_save.click(on_feedback, [fb_drug, fb_verdict, fb_comment, result_state], fb_status,
                          api_name="feedback")
        demo.load(refresh_models, None, model, api_name=False)
    return demo
