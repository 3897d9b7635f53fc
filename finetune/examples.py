"""Cases -> tokenised training examples in the one shared prompt format, loss on the answer only.

The prompt (system + user turns + the assistant header) and the answer are tokenised separately and
concatenated: that is exactly what the model sees when served (vLLM tokenises the prompt, the model
generates the answer), and it makes the label mask exact without offset bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rxassist.cases import Case
from rxassist.errors import ConfigError
from rxassist.prompt import MAX_RECOMMENDATIONS, build_messages, render_answer

from finetune.rationale import recommendations_for

IGNORE_INDEX = -100  # transformers' cross-entropy ignores these label positions


@dataclass
class Example:
    case_id: str
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX on prompt tokens, the token id on answer tokens


@dataclass
class ExampleSet:
    examples: list[Example] = field(default_factory=list)
    skipped_too_long: list[str] = field(default_factory=list)  # case ids
    skipped_no_drugs: list[str] = field(default_factory=list)  # nothing prescribed: no answer
    truncated_recommendations: int = 0  # cases with more drugs than MAX_RECOMMENDATIONS


def chat_texts(tokenizer, case: Case) -> tuple[str, str]:
    """(prompt text ending with the assistant header, answer text incl. the end-of-turn marker)."""
    messages = build_messages(case.patient, case.diagnosis)
    recs = recommendations_for(case)[:MAX_RECOMMENDATIONS]
    answer = render_answer(recs)
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": answer}],
                                         tokenize=False)
    if not full.startswith(prompt):
        raise ConfigError("the tokenizer's chat template does not render the generation prompt as "
                          "a prefix of the full conversation; cannot separate prompt from answer")
    return prompt, full[len(prompt):]


def build_example(tokenizer, case: Case) -> Example:
    prompt, answer = chat_texts(tokenizer, case)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    return Example(case_id=case.id, input_ids=prompt_ids + answer_ids,
                   labels=[IGNORE_INDEX] * len(prompt_ids) + list(answer_ids))


def build_examples(tokenizer, cases: list[Case], max_length: int) -> ExampleSet:
    out = ExampleSet()
    for case in cases:
        if len({d.strip() for d in case.drugs if d.strip()}) > MAX_RECOMMENDATIONS:
            out.truncated_recommendations += 1
        if not recommendations_for(case):
            # The answer schema needs at least one drug; an empty list would teach a non-answer.
            out.skipped_no_drugs.append(case.id)
            continue
        ex = build_example(tokenizer, case)
        if len(ex.input_ids) > max_length:
            # Truncating would teach a cut-off JSON answer; skip and report instead.
            out.skipped_too_long.append(case.id)
            continue
        out.examples.append(ex)
    return out


def collate(examples: list[Example], pad_id: int):
    """Left-pad a batch so every answer ends at the last position.

    Aligned answer ends let the model compute logits only for the last `keep` positions (the
    vocabulary projection is a large share of a small model's step), see `answer_loss`. Explicit
    position ids keep each row's positions starting at 0 despite the padding.
    """
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    positions = torch.zeros((len(examples), width), dtype=torch.long)
    keep = 1
    for row, e in enumerate(examples):
        n = len(e.input_ids)
        ids[row, width - n:] = torch.tensor(e.input_ids)
        labels[row, width - n:] = torch.tensor(e.labels)
        mask[row, width - n:] = 1
        positions[row, width - n:] = torch.arange(n)
        first_answer = next(i for i, lab in enumerate(e.labels) if lab != IGNORE_INDEX)
        # +1: the token before the answer's first token predicts it.
        keep = max(keep, n - first_answer + 1)
    return {"input_ids": ids, "attention_mask": mask, "position_ids": positions,
            "labels": labels, "keep": min(keep, width)}


def answer_loss(model, batch: dict):
    """Mean cross-entropy over answer tokens, computing logits for the last `keep` positions."""
    import torch.nn.functional as F

    keep = batch["keep"]
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                position_ids=batch["position_ids"], logits_to_keep=keep, use_cache=False)
    logits = out.logits[:, :-1, :].float()
    targets = batch["labels"][:, -(keep - 1):] if keep > 1 else batch["labels"][:, :0]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=IGNORE_INDEX)
