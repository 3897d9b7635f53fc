"""The constrained choice: the answer schema, parsing, and the model client's two methods
(enum structured output, log-probability scoring) over a FAKE model (httpx MockTransport)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from pydantic import ValidationError

from rxassist.cases import Diagnosis, Patient
from rxassist.errors import ConfigError, ModelUnavailable, NotFound
from recommend.model_client import ModelClient, ModelSettings, RequestRejected
from recommend.prompt import build_messages, parse_choices, render_answer, response_format
from recommend.schemas import MAX_OFFERED, ConsultationResult, answer_model, answer_schema
from recommend.shortlist import shortlist
from tests.fake_model import FakeModel, enum_names

NAMES = ("metformin", "glipizide", "insulin glargine")


def test_answer_schema_is_an_enum_of_the_candidates_generated_from_the_model():
    schema = answer_schema(NAMES, 2)
    items = schema["properties"]["choices"]
    assert items["items"]["enum"] == list(NAMES)
    assert items["minItems"] == 1 and items["maxItems"] == 2
    assert schema["additionalProperties"] is False
    assert answer_model(NAMES, 2).model_validate({"choices": ["glipizide"]})
    with pytest.raises(ValidationError):
        answer_model(NAMES, 2).model_validate({"choices": ["simvastatin"]})
    # k is capped by the number of candidates
    assert answer_schema(("metformin",), 3)["properties"]["choices"]["maxItems"] == 1


@pytest.mark.parametrize("text, expected", [
    ('{"choices": ["glipizide", "metformin"]}', ["glipizide", "metformin"]),
    ('```json\n{"choices": ["metformin", "metformin"]}\n```', ["metformin"]),   # repeats dropped
    ('{"choices": ["metformin", "glipizide", "insulin glargine", "metformin"]}',
     ["metformin", "glipizide", "insulin glargine"]),
    ('{"choices": ["metformin", "simvastatin"]}', None),   # anything outside: whole answer out
    ('{"choices": ["Metformin"]}', None),                   # exact names only
    ('{"choices": []}', None),
    ("metformin", None),
    ("", None),
])
def test_parse_choices_accepts_only_candidates(text, expected):
    assert parse_choices(text, NAMES, 3) == expected


def test_rendered_answer_parses_back():
    assert parse_choices(render_answer(["insulin glargine"]), NAMES) == ["insulin glargine"]


def client(fake: FakeModel, **settings) -> ModelClient:
    return fake.client(**settings)


def test_enum_request_and_answer():
    fake = FakeModel(lambda names, body: json.dumps({"choices": [names[1]]}))
    messages = [{"role": "user", "content": "x"}]
    choice = client(fake).choose("m", messages, NAMES, 2)
    assert choice.names == ["glipizide"] and choice.status == "parsed"
    assert choice.usage == {"prompt_tokens": 100, "completion_tokens": 10}
    body = fake.requests[0]
    assert body["response_format"] == response_format(NAMES, 2)
    assert enum_names(body) == list(NAMES) and body["temperature"] == 0.0


def test_out_of_candidate_answer_is_rejected_sync_and_async():
    fake = FakeModel('{"choices": ["simvastatin"]}')
    c = client(fake)
    assert c.choose("m", [], NAMES).names is None
    choice = asyncio.run(c.achoose("m", [], NAMES))
    assert choice.names is None and choice.status == "unparseable"


def test_without_structured_output_the_answer_is_still_validated():
    fake = FakeModel('{"choices": ["glipizide", "rosiglitazone"]}')
    choice = client(fake, structured_output=False).choose("m", [], NAMES)
    assert "response_format" not in fake.requests[0] and choice.names is None


def test_logprob_scores_each_candidate_and_keeps_likely_ones():
    logprob = {"metformin": -1.0, "glipizide": -1.5, "insulin glargine": -9.0}
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        name = json.loads(body["messages"][-1]["content"])["choices"][0]
        # The shared prefix (the same for every candidate) plus the answer's own tokens.
        return httpx.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "length",
                         "message": {"role": "assistant", "content": ""}}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 1, "total_tokens": 51},
            "prompt_logprobs": [None, {"7": {"logprob": -3.0, "rank": 1}},
                                {"9": {"logprob": logprob[name], "rank": 1}}]})

    settings = ModelSettings(base_url="http://fake/v1", max_retries=0, choice="logprob")
    c = ModelClient(settings, transport=httpx.MockTransport(handle))
    messages = [{"role": "user", "content": "x"}]
    choice = c.choose("m", messages, NAMES, 3)
    # metformin first; glipizide keeps ~38% of the mass; insulin glargine ~0.02% is dropped.
    assert choice.names == ["metformin", "glipizide"]
    assert choice.scores["insulin glargine"] == pytest.approx(-12.0)
    assert len(seen) == 3
    assert seen[0]["continue_final_message"] is True and seen[0]["prompt_logprobs"] == 0
    assert seen[0]["add_generation_prompt"] is False and seen[0]["max_tokens"] == 1
    assert choice.usage["prompt_tokens"] == 150
    assert asyncio.run(c.achoose("m", messages, NAMES, 1)).names == ["metformin"]


@pytest.mark.parametrize("status, error", [(401, ConfigError), (404, NotFound),
                                           (400, RequestRejected), (503, ModelUnavailable)])
def test_errors_are_translated_once(status, error):
    with pytest.raises(error):
        client(FakeModel(status=status)).choose("m", [], NAMES)


def test_k_out_of_range_is_a_config_error():
    with pytest.raises(ConfigError):
        client(FakeModel()).choose("m", [], NAMES, 6)


def test_prompt_carries_the_shortlist_with_evidence_tags():
    patient = Patient(age=45, sex="male", allergies=[], current_medications=[])
    sl = shortlist(patient, Diagnosis(text="Type 2 diabetes mellitus", code="E11.9"))
    messages = build_messages(patient, Diagnosis(text="Type 2 diabetes mellitus", code="E11.9"),
                              sl.offered, 3)
    user = messages[1]["content"]
    assert "choose up to 3" in messages[0]["content"]
    lines = [line for line in user.splitlines() if line.startswith("- ")]
    assert [line[2:].split(":")[0] for line in lines] == list(sl.names)
    assert lines[0].startswith("- metformin: guideline first-line, given to ")


def test_result_schema_keeps_the_api_fields():
    r = ConsultationResult(status="refused", patient={}, model="rxassist", prompt_version="v")
    d = r.to_dict()
    for key in ("status", "patient", "diagnosis", "recommendations", "flags", "missing_fields",
                "excluded"):
        assert key in d
    assert "usage" not in d and "model_output" not in d


def test_the_model_is_offered_only_the_best_supported_survivors():
    # Penicillin allergy: amoxicillin is excluded however few candidates are offered.
    patient = Patient(age=8, sex="male", allergies=["penicillin"], current_medications=[])
    dx = Diagnosis(text="acute otitis media", code="H66.90")
    every = shortlist(patient, dx, offer=None)
    two = shortlist(patient, dx, offer=2)
    assert len(every.offered) > 2
    assert two.names == every.names[:2]
    assert [e.drug for e in two.excluded] == [e.drug for e in every.excluded]
    assert "amoxicillin" in [e.drug for e in two.excluded]
    assert len(shortlist(patient, dx).offered) <= MAX_OFFERED


def _shortlist(*scored: tuple[str, float]):
    from recommend.candidates import Candidate
    from recommend.candidates._types import Evidence
    from recommend.shortlist import Shortlist
    ev = [Evidence(source="guideline", detail="first-line")]
    return Shortlist(offered=[Candidate(name=n, ingredients=[n], score=s, evidence=ev)
                              for n, s in scored])


def test_the_model_decides_among_about_equally_supported_candidates():
    sl = _shortlist(("metformin", 1.30), ("glipizide", 1.25), ("sitagliptin", 0.60))
    # glipizide is within the margin of the best: the model's choice ranks first
    assert sl.ranked(["glipizide"], 3, fill=True, margin=0.1) == [
        ("glipizide", "model"), ("metformin", "evidence"), ("sitagliptin", "evidence")]
    # sitagliptin is far less supported: the better-supported ones rank above it
    assert sl.ranked(["sitagliptin"], 3, fill=True, margin=0.1) == [
        ("metformin", "evidence"), ("glipizide", "evidence"), ("sitagliptin", "model")]
    # no margin: the model's choices always first; without fill only they are given
    assert sl.ranked(["sitagliptin"], 2, fill=True, margin=None)[0] == ("sitagliptin", "model")
    assert sl.ranked(["sitagliptin"], 3, fill=False, margin=0.1) == [("sitagliptin", "model")]
    assert sl.ranked([], 3, fill=True, margin=0.1) == []


def test_no_two_recommendations_share_an_ingredient():
    from recommend.candidates import Candidate
    from recommend.candidates._types import Evidence
    from recommend.shortlist import Shortlist
    ev = [Evidence(source="guideline", detail="first-line")]
    sl = Shortlist(offered=[
        Candidate(name="acetaminophen; hydrocodone", ingredients=["acetaminophen", "hydrocodone"],
                  score=1.0, evidence=ev),
        Candidate(name="acetaminophen", ingredients=["acetaminophen"], score=0.9, evidence=ev),
        Candidate(name="ibuprofen", ingredients=["ibuprofen"], score=0.5, evidence=ev)])
    assert [n for n, _ in sl.ranked(["acetaminophen; hydrocodone"], 3, fill=True)] == [
        "acetaminophen; hydrocodone", "ibuprofen"]


def test_an_option_with_a_patient_warning_ranks_below_an_equal_one_without():
    # Oral fluconazole carries a pregnancy warning: topical azoles rank first in pregnancy.
    yeast = Diagnosis(text="vaginal yeast infection")
    pregnant = shortlist(Patient(age=27, sex="female", pregnant=True), yeast)
    assert pregnant.names[0] != "fluconazole"
    # an equally supported clean option exists, so the warned one is shown as excluded with its
    # warning (recommend.shortlist._keep_safer); offered, flagged, only where nothing clean is
    excluded = {e.drug: e for e in pregnant.excluded}
    assert excluded["fluconazole"].reason.startswith("a safer option") \
        and excluded["fluconazole"].flags
    assert shortlist(Patient(age=27, sex="female", pregnant=False), yeast).names[0] == \
        "fluconazole"
