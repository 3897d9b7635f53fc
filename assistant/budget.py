"""The prompt's token budget, counted with the served model's own tokenizer.

A prompt longer than the engine's context minus the answer's max_tokens would come back from
vLLM as an error (a 503 to the clinician). Counted before the call, it is a 400 that names the
field to shorten (the longest one), and the engine never sees it.
"""

from __future__ import annotations

from typing import Any

from rxassist.errors import InvalidInput

FIELDS = ("current_medications", "allergies")


class PromptBudget:
    def __init__(self, tokenizer: Any, max_model_len: int, max_tokens: int):
        if max_tokens >= max_model_len:
            raise ValueError(f"max_tokens={max_tokens} leaves no room in a context of "
                             f"{max_model_len} tokens")
        self.tokenizer, self.limit = tokenizer, max_model_len - max_tokens

    @classmethod
    def from_model(cls, path: str, max_model_len: int, max_tokens: int) -> "PromptBudget":
        from transformers import AutoTokenizer

        return cls(AutoTokenizer.from_pretrained(path), max_model_len, max_tokens)

    def count(self, messages: list[dict]) -> int:
        ids = self.tokenizer.apply_chat_template(messages, tokenize=True,
                                                 add_generation_prompt=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):   # BatchEncoding in newer releases
            ids = ids["input_ids"]
        return len(ids)

    def _tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def __call__(self, messages: list[dict], patient, diagnosis) -> None:
        used = self.count(messages)
        if used <= self.limit:
            return
        sizes = {"diagnosis": self._tokens(diagnosis.text)}
        for name in FIELDS:
            sizes[name] = self._tokens(", ".join(getattr(patient, name) or []))
        field = max(sizes, key=sizes.get)
        raise InvalidInput(f"the consultation is too long for the model: the prompt needs {used} "
                           f"tokens, at most {self.limit} fit; shorten the {field.replace('_', ' ')}"
                           f" ({sizes[field]} tokens)", param=field, code="context_length_exceeded")
