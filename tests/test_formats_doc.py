"""docs/formats.md: every JSON example parses and matches the project's real models and options."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"


def examples() -> dict[str, object]:
    blocks = re.findall(r"```json ([\w-]+)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return {tag: json.loads(body) for tag, body in blocks}


def test_every_example_is_json_and_tagged():
    assert set(examples()) == {"case", "guardrails-input", "guardrails-output", "guardrails-flags",
                               "metrics", "chat-request", "chat-response", "train-report"}


def test_case_example_loads_with_rxassist_cases():
    from rxassist.cases import parse_case_line
    case = parse_case_line(json.dumps(examples()["case"]))
    assert case.patient.allergies == ["penicillin"] and case.diagnosis.code == "I10"


def test_guardrails_example_is_what_check_returns():
    import guardrails
    ex = examples()
    got = guardrails.check(ex["guardrails-input"]["drugs"], ex["guardrails-input"]["patient"]).to_dict()
    assert got["drugs"] == ex["guardrails-output"]["drugs"]
    strip = lambda f: {k: v for k, v in f.items() if k not in ("message", "basis")}  # noqa: E731
    documented = [strip(f) for f in ex["guardrails-output"]["flags"]]
    assert all(d in [strip(f) for f in got["flags"]] for d in documented)


def test_flag_examples_have_the_flag_fields():
    from guardrails._types import Flag
    from rxassist.severity import SEVERITY_ORDER
    names = set(Flag.model_fields)
    ex = examples()
    flags = ex["guardrails-output"]["flags"] + ex["guardrails-flags"] + \
        ex["chat-response"]["rxassist"]["flags"]
    for flag in flags:
        assert set(flag) == names and flag["severity"] in SEVERITY_ORDER
    kinds = {f["kind"] for f in ex["guardrails-flags"]}
    assert "interaction" in kinds and any("guess" in k for k in kinds)


def test_metrics_example_has_the_metrics_eval_computes():
    from eval.metrics import compute_metrics
    computed = set(compute_metrics([]))
    documented = set(examples()["metrics"]) - {"n_cases", "model"}
    assert documented <= computed


def test_chat_request_validates_and_response_matches_the_assistant():
    from serving.protocol import ChatCompletionRequest
    from tests.fake_model import FakeModel

    from assistant import Assistant, AssistantConfig
    ex = examples()
    request = ChatCompletionRequest.model_validate(ex["chat-request"])
    documented = ex["chat-response"]["rxassist"]
    fake = FakeModel(json.dumps({"choices": [r["drug"] for r in documented["recommendations"]
                                             if r.get("chosen_by", "model") == "model"]}))
    a = Assistant(AssistantConfig(model_base_url="http://127.0.0.1:9/v1", base_model="smollm2"),
                  model_client=fake.client())
    turn = asyncio.run(a.respond(request.plain_messages()))
    got = turn.result.to_dict()
    assert turn.content == ex["chat-response"]["choices"][0]["message"]["content"]
    assert turn.content.startswith("**Recommendations for ")
    assert set(documented) <= set(got)
    for key in ("status", "patient", "diagnosis", "recommendations", "missing_fields",
                "unknown_fields", "drugs", "excluded", "candidates", "prompt_version"):
        assert json.loads(json.dumps(got[key])) == documented[key], key


@pytest.mark.parametrize("command, text", [
    (["eval", "run"], "Evaluation run"), (["finetune"], "Fine-tuning outputs"),
    (["serve"], "Serving API"), (["guardrails", "check"], "Guardrails check")])
def test_documented_options_exist(command, text, capsys):
    from rxassist.cli import main
    section = DOC.read_text(encoding="utf-8").split(f"## {text}")[1].split("\n## ")[0]
    options = set(re.findall(r"(--[a-z][a-z-]+)", section.split("```json")[0]))
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    help_text = capsys.readouterr().out
    missing = {o for o in options if o not in help_text}
    assert missing == set()


def test_train_report_example_has_the_promised_keys():
    assert {"method", "rank", "steps", "trainable_params", "total_params",
            "lora_equivalent_trainable_params", "final_loss", "attn_implementation"} <= \
        set(examples()["train-report"])
