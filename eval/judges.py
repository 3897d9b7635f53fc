"""The LLM judge of appropriateness: another scorer, through any OpenAI-compatible endpoint.

Its prompt lives in a versioned file (eval/prompts/judge-v1.md); the version recorded with each
verdict is the file name plus a hash of its text, so an edited prompt never passes as the old
one. A verdict the judge does not give in a usable form is left unscored (appropriate: null)
and counted; it is never guessed.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from rxassist.errors import ConfigError
from rxassist.patient_text import consultation_lines

from recommend.model_client import ModelClient, ModelSettings, RequestRejected
from eval.matching import plain
from eval.records import JudgeRecord, SolverRecord, Verdict

DEFAULT_PROMPT = Path(__file__).parent / "prompts" / "judge-v1.md"
_YES = {"appropriate", "yes", "true"}
_NO = {"inappropriate", "not appropriate", "no", "false"}
_JSON_OBJECT = re.compile(r"\{.*\}", re.S)

VERDICT_SCHEMA = {
    "type": "object",
    "properties": {"verdicts": {"type": "array", "items": {
        "type": "object",
        "properties": {"index": {"type": "integer"}, "drug": {"type": "string"},
                       "verdict": {"type": "string", "enum": ["appropriate", "inappropriate"]},
                       "reason": {"type": "string"}},
        "required": ["index", "drug", "verdict", "reason"], "additionalProperties": False}}},
    "required": ["verdicts"], "additionalProperties": False,
}


def load_prompt(path: Path | None) -> tuple[str, str]:
    path = path or DEFAULT_PROMPT
    if not path.is_file():
        raise ConfigError(f"--judge-prompt {path} does not exist", param="judge_prompt")
    text = path.read_text(encoding="utf-8").strip()
    return text, f"{path.stem}@{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def judge_user_message(record: SolverRecord) -> str:
    drugs = "\n".join(f"{i}. {r.drug}" for i, r in enumerate(record.output or [], start=1))
    return ("\n".join(consultation_lines(record.patient, record.diagnosis))
            + f"\n\nRecommended drugs:\n{drugs}")


def _verdict_value(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        return True if v in _YES else False if v in _NO else None
    return None


def parse_verdicts(text: str | None, drugs: list[str]) -> tuple[list[Verdict], bool]:
    """One Verdict per recommended drug (appropriate None where unusable), and whether the whole
    reply was unparseable."""
    unscored = [Verdict(drug=d, appropriate=None, reason="") for d in drugs]
    match = _JSON_OBJECT.search(text or "")
    if not match:
        return unscored, True
    try:
        items = json.loads(match.group(0)).get("verdicts")
    except (json.JSONDecodeError, AttributeError):
        return unscored, True
    if not isinstance(items, list):
        return unscored, True
    by_index: dict[int, dict] = {}
    by_name: dict[str, dict] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("index"), int):
            by_index.setdefault(item["index"], item)
        if isinstance(item.get("drug"), str):
            by_name.setdefault(plain(item["drug"]), item)
    out = []
    for i, drug in enumerate(drugs, start=1):
        # The echoed name is the safer key; the index covers judges that reword the name.
        item = by_name.get(plain(drug)) or by_index.get(i)
        if item is None:
            out.append(Verdict(drug=drug, appropriate=None, reason="no verdict for this drug"))
            continue
        out.append(Verdict(drug=drug, appropriate=_verdict_value(item.get("verdict")),
                           reason=str(item.get("reason") or "")[:1000]))
    return out, False


class LLMJudge:
    """`endpoint` is the judge's model API with its one model (eval.config.RunConfig
    .judge_endpoint); its `structured_output` sends the verdict schema as response_format."""

    def __init__(self, endpoint: ModelSettings, prompt_path: Path | None = None):
        if not endpoint.model:
            raise ConfigError("the judge needs a model (--judge-model)", param="judge_model")
        self.endpoint, self.model = endpoint, endpoint.model
        self.prompt, self.prompt_version = load_prompt(prompt_path)
        self.name = f"llm:{self.model}"
        # The one model client (retries with backoff and Retry-After are the openai client's).
        self.client = ModelClient(endpoint)

    def messages(self, record: SolverRecord) -> list[dict]:
        return [{"role": "system", "content": self.prompt},
                {"role": "user", "content": judge_user_message(record)}]

    def response_format(self) -> dict | None:
        if not self.endpoint.structured_output:
            return None
        return {"type": "json_schema", "json_schema": {
            "name": "verdicts", "schema": VERDICT_SCHEMA, "strict": True}}

    def judge(self, record: SolverRecord) -> JudgeRecord:
        drugs = [r.drug for r in record.output or []]
        try:
            text = self.client.chat_text(self.model, self.messages(record),
                                         response_format=self.response_format(), max_tokens=1024)
        except RequestRejected as e:
            text = None
            verdicts = [Verdict(drug=d, appropriate=None, reason=f"judge error: {e}")
                        for d in drugs]
            return JudgeRecord(id=record.id, judge=self.name, prompt_version=self.prompt_version,
                               verdicts=verdicts, unparseable=True, raw=None)
        verdicts, unparseable = parse_verdicts(text, drugs)
        return JudgeRecord(id=record.id, judge=self.name, prompt_version=self.prompt_version,
                           verdicts=verdicts, unparseable=unparseable, raw=text)
