"""The 20 scripted consultations through the real Assistant, the real guardrails and a fake
model answering each consultation's scripted `fake_output` the way structured output lets a
model answer: the scripted drugs that are on the candidate list (by ingredient), else the first
candidate. Drugs the guardrails rule out never reach the model's list."""

from __future__ import annotations

import asyncio

import pytest

from tests.fake_model import FakeModel

from .assistant_consultations import check, load, scripted_choice

CONSULTATIONS = load()


def test_there_are_twenty_varied_consultations():
    assert len(CONSULTATIONS) == 20
    assert len({c["id"] for c in CONSULTATIONS}) == 20
    statuses = {c["expect"]["status"] for c in CONSULTATIONS}
    assert statuses == {"recommended", "needs_info", "refused"}
    assert sum(len(c["turns"]) > 1 for c in CONSULTATIONS) >= 5


@pytest.mark.parametrize("consultation", CONSULTATIONS, ids=[c["id"] for c in CONSULTATIONS])
def test_consultation_with_fake_model(make_assistant, consultation):
    assistant, _ = make_assistant(scripted_choice(consultation["fake_output"]))
    history = []
    per_turn = consultation.get("expect_turns") or []
    for i, text in enumerate(consultation["turns"]):
        history.append({"role": "user", "content": text})
        reply = asyncio.run(assistant.respond(list(history), model="rxassist"))
        history.append({"role": "assistant", "content": reply.content})
        if i < len(per_turn):
            check(per_turn[i], reply.content, reply.result.to_dict(), f"{consultation['id']} turn {i + 1}")
    where = consultation["id"]
    check(consultation["expect"], reply.content, reply.result.to_dict(), where)
    check(consultation.get("expect_fake", {}), reply.content, reply.result.to_dict(), where + " (fake)")
