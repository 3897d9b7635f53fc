"""Cases -> tokenised training examples in the one shared prompt format, loss on the answer only.

Since prompt v2 an example is a choice among candidates: the prompt carries the case's shortlist
(recommend.shortlist: evidence candidates minus what the guardrails exclude, exactly as served) and
the target answer names the recorded drugs that are on it, in the shortlist's ranked order, at
most MAX_RECOMMENDATIONS. A case none of whose drugs is on its shortlist teaches nothing about
choosing and is skipped (counted in ExampleSet.skipped_not_in_candidates).

The prompt (system + user turns + the assistant header) and the answer are tokenised separately and
concatenated: that is exactly what the model sees when served (vLLM tokenises the prompt, the model
generates the answer), and it makes the label mask exact without offset bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rxassist.cases import Case
from rxassist.errors import ConfigError
from recommend.pipeline import RecommendSettings, prepare
from recommend.prompt import MAX_RECOMMENDATIONS, render_answer
from recommend.shortlist import Shortlist
from guardrails import ingredients_of

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
    skipped_not_in_candidates: list[str] = field(default_factory=list)  # no recorded drug offered
    truncated_recommendations: int = 0  # cases with more chosen drugs than MAX_RECOMMENDATIONS


def _ingredient_key(drug: str) -> frozenset[str]:
    return frozenset(ingredients_of(drug)) or frozenset({drug.strip().lower()})


def target_choices(case: Case, offered: Shortlist) -> list[str]:
    """The recorded drugs that are on the shortlist (matched on ingredients), in its order."""
    recorded = {_ingredient_key(d) for d in case.drugs if d.strip()}
    return [c.name for c in offered.offered if frozenset(c.ingredients) in recorded]


def training_pair(case: Case) -> tuple[list[dict] | None, list[str]]:
    """(prompt messages, every target choice, untruncated); no choices -> nothing to learn.
    The prompt is the served one (recommend.pipeline.prepare, default settings)."""
    prepared = prepare(case.patient, case.diagnosis, RecommendSettings())
    return prepared.messages, target_choices(case, prepared.shortlist)


def _texts(tokenizer, messages: list[dict], choices: list[str]) -> tuple[str, str]:
    answer = render_answer(choices[:MAX_RECOMMENDATIONS])
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": answer}],
                                         tokenize=False)
    if not full.startswith(prompt):
        raise ConfigError("the tokenizer's chat template does not render the generation prompt as "
                          "a prefix of the full conversation; cannot separate prompt from answer")
    return prompt, full[len(prompt):]


def chat_texts(tokenizer, case: Case) -> tuple[str, str] | None:
    """(prompt text ending with the assistant header, answer text incl. the end-of-turn marker),
    or None when none of the case's drugs is among its candidates."""
    messages, choices = training_pair(case)
    return _texts(tokenizer, messages, choices) if choices else None


def _tokenise(tokenizer, case_id: str, prompt: str, answer: str) -> Example:
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    return Example(case_id=case_id, input_ids=prompt_ids + answer_ids,
                   labels=[IGNORE_INDEX] * len(prompt_ids) + list(answer_ids))


def build_example(tokenizer, case: Case) -> Example | None:
    texts = chat_texts(tokenizer, case)
    return None if texts is None else _tokenise(tokenizer, case.id, *texts)


def build_examples(tokenizer, cases: list[Case], max_length: int) -> ExampleSet:
    out = ExampleSet()
    for case in cases:
        if not any(d.strip() for d in case.drugs):
            # The answer schema needs at least one drug; an empty list would teach a non-answer.
            out.skipped_no_drugs.append(case.id)
            continue
        messages, choices = training_pair(case)
        if not choices:
            out.skipped_not_in_candidates.append(case.id)
            continue
        if len(choices) > MAX_RECOMMENDATIONS:
            out.truncated_recommendations += 1
        ex = _tokenise(tokenizer, case.id, *_texts(tokenizer, messages, choices))
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
