"""End to end: the language-model reader against the REAL vLLM engine that `rxassist serve`
starts (the `rx_server` fixture), through LangChain structured output and vLLM's guided
decoding, and the merge with the rule reader on the real answer. The embedded 135M model reads
poorly; these tests pin the plumbing and the caution rules, not its accuracy."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.e2e

NITRATE = "62 M, erectile dysfunction, on isosorbide mononitrate for angina, no known allergies"


@pytest.fixture(scope="module")
def reader(rx_server):
    from assistant.llm_reader import LLMReader
    from recommend.model_client import ModelClient, ModelSettings

    client = ModelClient(ModelSettings(base_url=rx_server.model_url,
                                       api_key=rx_server.model_api_key, timeout_s=300,
                                       max_retries=0))
    return LLMReader(client, rx_server.model_name, max_tokens=256)


def test_the_real_engine_answers_inside_the_schema(reader):
    got = reader.read([NITRATE])
    # Guided decoding: a complete answer always parses; only the token cap can cut it off.
    assert got.status in ("parsed", "unparseable"), got.detail
    if got.status == "unparseable":
        assert "truncated" in got.detail
    else:
        assert got.fields.sex in (None, "male", "female")
    assert got.latency_s > 0


def test_merging_the_real_answer_keeps_the_rules_reading(reader):
    import guardrails
    from assistant.dialogue import fold
    from assistant.extract import Extractor
    from assistant.reading import merge_both

    history = [{"role": "user", "content": NITRATE}]
    c = fold(history, Extractor(guardrails.find_drug_mentions)).consultation
    before = {k: v for k, v in c.values.items()}
    got = asyncio.run(reader.aread([NITRATE]))
    notes = merge_both(c, got, NITRATE, guardrails.find_drug_mentions, guardrails.ingredients_of)
    for name, value in before.items():
        if name in ("allergies", "current_medications"):
            assert set(value) <= set(c.values[name])     # a union: nothing the rules read is lost
        else:
            assert c.values[name] == value               # the rules stay the authority
    for item in c.values["current_medications"]:
        assert item.casefold() in NITRATE.casefold()     # never an invented medication
    assert all(n.action in ("added", "filled", "kept_rules", "ignored", "unavailable")
               for n in notes)
