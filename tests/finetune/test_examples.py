"""The training examples use the one shared prompt format and put loss on answer tokens only."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from finetune.examples import (IGNORE_INDEX, answer_loss, build_example, build_examples, collate,
                               training_pair)
from finetune.rationale import rationale, recommendations_for
from rxassist.cases import Case
from recommend.prompt import build_messages, parse_choices
from recommend.shortlist import shortlist

from .conftest import CASES


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_loss_mask_covers_exactly_the_answer(tokenizer):
    case = Case.model_validate(CASES[0])
    ex = build_example(tokenizer, case)
    n_prompt = next(i for i, lab in enumerate(ex.labels) if lab != IGNORE_INDEX)
    assert all(lab == IGNORE_INDEX for lab in ex.labels[:n_prompt])
    assert ex.labels[n_prompt:] == ex.input_ids[n_prompt:]
    offered = shortlist(case.patient, case.diagnosis)
    prompt = tokenizer.apply_chat_template(
        build_messages(case.patient, case.diagnosis, offered.offered),
        tokenize=False, add_generation_prompt=True)
    assert tokenizer.decode(ex.input_ids[:n_prompt]) == prompt
    answer = tokenizer.decode(ex.input_ids[n_prompt:])
    assert answer.endswith("<|im_end|>\n")  # the model learns to stop
    # The target: the recorded drugs, in the shortlist's ranked order, all among the candidates.
    chosen = parse_choices(answer, offered.names)
    assert sorted(chosen) == ["amlodipine", "hydrochlorothiazide", "lisinopril"]
    assert chosen == [n for n in offered.names if n in chosen]


def test_prompt_carries_the_candidates_and_never_current_medications():
    case = Case.model_validate({"id": "x", "patient": {"age": 60, "sex": "male",
                                                       "current_medications": ["metformin"]},
                                "diagnosis": {"text": "Type 2 diabetes mellitus", "code": "E11"},
                                "drugs": ["metformin", "insulin glargine"]})
    messages, choices = training_pair(case)
    user = messages[1]["content"]
    assert "Candidates:" in user and "- insulin glargine:" in user
    assert "- metformin:" not in user         # already taken: not a candidate
    assert choices == ["insulin glargine"]            # the target never names a current medication


def test_rationale_is_templated_and_true():
    assert rationale("atorvastatin", "Hyperlipidemia") == \
        "HMG-CoA Reductase Inhibitor for Hyperlipidemia"
    # Unknown class (or one ingredient of a combination unknown): no invented claim.
    assert rationale("lisinopril", "Essential hypertension") == "prescribed for Essential hypertension"
    assert rationale("acetaminophen; hydrocodone", "Pain") == "prescribed for Pain"
    case = Case.model_validate({"id": "x", "diagnosis": {"text": "D"},
                                "drugs": ["metformin", "metformin", " "]})
    assert [r.drug for r in recommendations_for(case)] == ["metformin"]


def test_long_examples_are_skipped_and_counted(tokenizer):
    cases = [Case.model_validate(c) for c in CASES if c["id"] != "c3"]  # c3: no candidate
    lengths = [len(build_example(tokenizer, c).input_ids) for c in cases]
    assert len(set(lengths)) == len(lengths)
    built = build_examples(tokenizer, cases, max_length=sorted(lengths)[2])
    assert len(built.examples) == 3 and len(built.skipped_too_long) == 1


def test_answer_loss_matches_transformers_loss(tiny_model_dir, tokenizer):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    examples = [build_example(tokenizer, Case.model_validate(c)) for c in (CASES[0], CASES[1], CASES[3])]
    batch = collate(examples, tokenizer.pad_token_id)
    assert batch["input_ids"].shape[0] == 3
    with torch.no_grad():
        ours = answer_loss(model, batch).item()
        total = count = 0
        for e in examples:  # one unpadded example at a time, token-weighted mean
            labels = torch.tensor([e.labels])
            out = model(input_ids=torch.tensor([e.input_ids]), labels=labels)
            n = int((labels[:, 1:] != IGNORE_INDEX).sum())
            total, count = total + out.loss.item() * n, count + n
    assert ours == pytest.approx(total / count, rel=1e-4)


def test_cases_without_drugs_are_skipped_and_counted(tokenizer):
    case = Case.model_validate({"id": "e", "diagnosis": {"text": "D"}, "drugs": [" "]})
    built = build_examples(tokenizer, [case, Case.model_validate(CASES[1])], 512)
    assert built.skipped_no_drugs == ["e"] and len(built.examples) == 1


def test_cases_whose_drugs_are_not_candidates_are_skipped_and_counted(tokenizer):
    # Hydrocodone is no candidate for bare "Pain" (no code): nothing to learn about choosing.
    built = build_examples(tokenizer, [Case.model_validate(CASES[2]),
                                       Case.model_validate(CASES[1])], 2048)
    assert built.skipped_not_in_candidates == ["c3"] and len(built.examples) == 1
