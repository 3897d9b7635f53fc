"""Training, evaluation and serving ask the model the same thing, byte for byte.

The fine-tuning example builder, `eval run`'s model target and the assistant (given the case as
one consultation message, as `eval run --target assistant` sends it) each build the prompt for
the same case; the three must be identical, free-text quoting included.
"""

from __future__ import annotations

import asyncio
import json

from assistant.config import AssistantConfig
from assistant.core import Assistant
from eval.targets import ModelTarget, consultation_message
from recommend.model_client import ModelSettings
from finetune.examples import training_pair
from rxassist.cases import Case, read_cases
from rxassist.paths import SHIPPED_DATA_DIR
from tests.fake_model import FakeModel, first

HELD_OUT = SHIPPED_DATA_DIR / "cases" / "nhanes-2013-2014-test-200.jsonl"


def _quoted_case() -> Case:
    # Free text that the prompt must quote as data: quotes, brackets and markup.
    return Case.model_validate({
        "id": "quoted", "drugs": ["nitrofurantoin"],
        "patient": {"age": 34, "sex": "female", "pregnant": False, "weight_kg": 60,
                    "allergies": ['sulfa "drugs" [severe rash]'],
                    "current_medications": ["levothyroxine {daily}"]},
        "diagnosis": {"text": "Urinary tract infection <b>acute</b>"}})


def _bytes(messages: list[dict]) -> bytes:
    return json.dumps(messages, ensure_ascii=False, sort_keys=True).encode()


def _training(case: Case) -> bytes | None:
    messages, _ = training_pair(case)
    return None if messages is None else _bytes(messages)


def _evaluation(case: Case) -> bytes | None:
    fake = FakeModel(first())
    target = ModelTarget(ModelSettings(base_url="http://fake-model/v1", model="m"), top_k=3)
    target.client = fake.client()
    target.solve(case)
    return _bytes(fake.requests[0]["messages"]) if fake.requests else None


def _serving(case: Case) -> tuple[bytes | None, bool]:
    """The assistant's prompt for the case sent as one consultation message, and whether the
    assistant read the message back into the case's own patient and diagnosis."""
    fake = FakeModel(first())
    config = AssistantConfig(model_base_url="http://fake-model/v1", base_model="base")
    assistant = Assistant(config, model_client=fake.client())
    turn = asyncio.run(assistant.respond([{"role": "user",
                                           "content": consultation_message(case)}]))
    assert turn.result.status in ("recommended", "nothing_survives"), turn.content
    dx = turn.result.diagnosis
    # The result's diagnosis also carries the clinician-readable reading; what the pipeline was
    # given is its text, code and system.
    read_back = (turn.result.patient == case.patient and dx is not None
                 and (dx.text, dx.code, dx.system) == (case.diagnosis.text, case.diagnosis.code,
                                                       case.diagnosis.system))
    return (_bytes(fake.requests[0]["messages"]) if fake.requests else None), read_back


def test_training_evaluation_and_serving_send_identical_prompts():
    # A message is read by the assistant's extraction, which can read a case differently (a
    # combination product among the current medications, "omeprazole; sodium bicarbonate",
    # is read as two drugs; "... (ICD-10-CM K21)" loses its code): the prompts are compared
    # wherever it read the case exactly (4 of the first 12 held-out cases when written).
    compared = []
    for case in read_cases(HELD_OUT).cases[:12]:
        training, evaluation = _training(case), _evaluation(case)
        assert training == evaluation, case.id
        serving, read_back = _serving(case)
        if read_back:
            assert serving == training, case.id
            compared.append(case.id)
    assert len(compared) >= 4, compared


def test_free_text_is_quoted_the_same_way_everywhere():
    case = _quoted_case()
    training = _training(case)
    assert training == _evaluation(case)
    serving, _ = _serving(case)
    for prompt in (training, serving):
        user = json.loads(prompt)[1]["content"].split("Candidates:")[0]
        assert '"' not in user and "<b>" not in user and "[" not in user, user


def test_the_comparison_sees_a_different_prompt():
    case = _quoted_case()
    unquoted = case.model_copy(update={"diagnosis": case.diagnosis.model_copy(
        update={"text": "Urinary tract infection acute"})})
    assert _training(case) != _training(unquoted)
