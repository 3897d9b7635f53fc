"""A tiny Llama model folder built in the test session: no downloads, trains in milliseconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
          "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

CASES = [
    {"id": "c1", "patient": {"age": 60, "sex": "female", "allergies": ["penicillin"],
                             "current_medications": ["prednisone"]},
     "diagnosis": {"text": "Essential (primary) hypertension", "code": "I10"},
     "drugs": ["amlodipine", "hydrochlorothiazide", "lisinopril"]},
    {"id": "c2", "patient": {"age": 54, "sex": "male"},
     "diagnosis": {"text": "Type 2 diabetes mellitus", "code": "E11"}, "drugs": ["metformin"]},
    {"id": "c3", "patient": None, "diagnosis": {"text": "Pain"},
     "drugs": ["acetaminophen; hydrocodone"]},
    {"id": "c4", "patient": {"age": 0.5, "sex": "male", "allergies": []},
     "diagnosis": {"text": "Otitis media"}, "drugs": ["amoxicillin"]},
    {"id": "c5", "patient": {"age": 35, "sex": "female", "pregnant": True},
     "diagnosis": {"text": "Hypothyroidism, unspecified", "code": "E03.9"},
     "drugs": ["levothyroxine"]},
]


def build_tokenizer(corpus: list[str]):
    """A byte-level BPE tokenizer with ChatML special tokens, trained on `corpus` in milliseconds."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>",
                                   eos_token="<|im_end|>", pad_token="<|im_end|>")
    fast.chat_template = CHATML
    return fast


def write_cases(path: Path, cases=CASES, extra_lines: tuple[str, ...] = ()) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for c in cases:
            fh.write(json.dumps(c) + "\n")
        for line in extra_lines:
            fh.write(line + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from finetune.examples import chat_texts
    from rxassist.cases import Case

    folder = tmp_path_factory.mktemp("tiny-llama")
    corpus = []
    # Train the tokenizer on the very texts it will see, so tokens are few and the model tiny.
    probe = build_tokenizer(["seed text"])
    for c in CASES:
        corpus.extend(chat_texts(probe, Case.model_validate(c)) or ())
    tokenizer = build_tokenizer(corpus)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=1024, tie_word_embeddings=True,
                         pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def cases_file(tmp_path) -> Path:
    return write_cases(tmp_path / "cases.jsonl")
