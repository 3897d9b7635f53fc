"""The language-model reader (LangChain structured output) and the merge that only adds caution,
over a FAKE model server (tests/fake_model.py), the real rule reader, guardrails and index."""

from __future__ import annotations

import asyncio
import json

import pytest

from assistant import Assistant, AssistantConfig
from assistant.dialogue import fold
from assistant.extract import Extractor
from assistant.llm_reader import LLMReader, LLMReading, PatientReading
from assistant.reading import merge_both
from rxassist.errors import ConfigError
from tests.fake_model import FakeModel, first

NITRATE = "62 M, erectile dysfunction, on isosorbide mononitrate for angina, no allergies"
PDE5 = {"sildenafil", "tadalafil", "vardenafil", "avanafil"}


def reading(**fields) -> str:
    base = {"age_years": None, "sex": None, "pregnant": None, "weight_kg": None,
            "allergies": [], "current_medications": [], "diagnosis": None}
    return json.dumps({**base, **fields})


def is_reader_request(body: dict) -> bool:
    fmt = body.get("response_format") or {}
    return (fmt.get("json_schema") or {}).get("name") == "PatientReading"


def scripted(read: str):
    """The fake answers the reader's request with `read` and the recommendation with the
    first candidate."""
    choose = first()
    return lambda names, body: read if is_reader_request(body) else choose(names, body)


def make(answer, reader="both", **config):
    fake = FakeModel(answer)
    cfg = AssistantConfig(model_base_url="http://127.0.0.1:9/v1", base_model="smollm2",
                          reader=reader, fill_with_evidence=False, **config)
    return Assistant(cfg, model_client=fake.client()), fake


def respond(assistant, text):
    return asyncio.run(assistant.respond([{"role": "user", "content": text}]))


def rules(text: str):
    import guardrails
    return fold([{"role": "user", "content": text}],
                Extractor(guardrails.find_drug_mentions)).consultation


def test_reader_asks_through_the_model_clients_own_transport_with_a_json_schema():
    fake = FakeModel(reading(age_years=62, sex="male", diagnosis="erectile dysfunction"))
    client = fake.client(timeout_s=7.0)
    reader = LLMReader(client, "smollm2", max_tokens=200)
    got = reader.read([NITRATE])
    assert got.status == "parsed" and got.fields.age_years == 62 and got.fields.sex == "male"
    [body] = fake.requests          # the request went through the ModelClient's httpx transport
    assert body["model"] == "smollm2" and body["temperature"] == 0.0
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == set(PatientReading.model_fields)
    assert NITRATE in body["messages"][-1]["content"]
    # One HTTP stack: LangChain holds the very clients the model client built.
    assert reader.chat_model.root_client is client.sync
    assert reader.chat_model.root_async_client is client.aio
    assert asyncio.run(reader.aread([NITRATE])).status == "parsed"


@pytest.mark.parametrize("answer,status", [("not json at all", "unparseable"),
                                           (json.dumps({"age_years": "old"}), "unparseable")])
def test_an_answer_outside_the_schema_is_unparseable_not_an_exception(answer, status):
    got = LLMReader(FakeModel(answer).client(), "smollm2").read(["34 F, UTI"])
    assert got.status == status and got.fields is None


def test_a_model_that_is_down_gives_an_unavailable_reading():
    got = asyncio.run(LLMReader(FakeModel("", status=503).client(), "smollm2").aread(["x"]))
    assert got.status == "unavailable" and got.fields is None


def test_on_x_for_y_the_model_reads_the_nitrate_and_the_guardrails_then_exclude_pde5():
    # "on isosorbide mononitrate for angina": both readers take the nitrate, so the
    # nitrate interaction is checked and the PDE-5 inhibitors are excluded.
    before, _ = make(scripted(reading()), reader="rules")
    rx_rules = respond(before, NITRATE).result.to_dict()
    a, fake = make(scripted(reading(age_years=62, sex="male", allergies=[],
                                    current_medications=["isosorbide mononitrate"],
                                    diagnosis="erectile dysfunction")))
    reply = respond(a, NITRATE)
    rx = reply.result.to_dict()
    assert "isosorbide mononitrate" in rx["patient"]["current_medications"]
    assert rx["reader"] == "both"
    # The rule reader now reads "on X for Y" itself; the model's agreeing reading adds nothing.
    assert "isosorbide mononitrate" in rx_rules["patient"]["current_medications"]
    assert not [n for n in rx.get("reader_notes", []) if n["action"] == "added"]
    recommended = {i for r in rx["recommendations"] for i in r["ingredients"]}
    excluded = {i for e in rx["excluded"] for i in e["ingredients"]}
    assert not recommended & PDE5
    assert excluded & PDE5, "the nitrate interaction must exclude the PDE-5 inhibitors"
    assert "reader" not in rx_rules and "reader_notes" not in rx_rules


def test_merge_never_takes_an_invented_medication_or_a_value_not_in_the_text():
    c = rules("70F, type 2 diabetes, prior MI, on metformin, NKDA")
    import guardrails
    proposal = PatientReading(age_years=71, sex="male", pregnant=None, weight_kg=80,
                              allergies=["none"], current_medications=["metformin", "aspirin",
                                                                       "glipizide"],
                              diagnosis="myocardial infarction")
    notes = merge_both(c, LLMReading(proposal, "parsed", 0.1),
                       "70F, type 2 diabetes, prior MI, on metformin, NKDA",
                       guardrails.find_drug_mentions, guardrails.ingredients_of)
    assert c.values["current_medications"] == ["metformin"]     # aspirin, glipizide invented
    assert c.values["allergies"] == [] and c.values["age"] == 70 and c.values["sex"] == "female"
    assert "weight_kg" not in c.values                          # 80 is nowhere in the text
    assert "myocardial" not in c.values["diagnosis"]
    actions = {(n.field, n.action) for n in notes}
    assert ("current_medications", "ignored") in actions and ("weight_kg", "ignored") in actions
    # A grounded difference would be shown; ungrounded ones are not put before the clinician.
    assert not any(n.action == "kept_rules" for n in notes)


def test_merge_adds_allergies_and_fills_only_empty_fields_with_grounded_values():
    import guardrails
    text = "Pt 45, 72 kg, cellulitis. Allergies: penicillin and latex. She is pregnant?"
    c = rules(text)
    had = dict(c.values)
    proposal = PatientReading(age_years=45, sex="female", pregnant=True, weight_kg=72,
                              allergies=["penicillin", "sulfa", "latex"], current_medications=[],
                              diagnosis="cellulitis")
    notes = merge_both(c, LLMReading(proposal, "parsed", 0.1), text,
                       guardrails.find_drug_mentions, guardrails.ingredients_of)
    assert "sulfa" not in c.values["allergies"]                 # not in the text
    assert set(had.get("allergies", [])) <= set(c.values["allergies"])
    assert c.values["sex"] == "female" and c.values["weight_kg"] == 72
    for n in notes:
        if n.action in ("filled", "added"):
            assert n.message in c.notes


def test_a_models_not_pregnant_never_closes_the_pregnancy_question():
    import guardrails
    from assistant.dialogue import Consultation
    # The word is in the text, but the rules read no status from it.
    text = "29 yo woman, UTI, no allergies, pregnancy: see chart"
    c = Consultation(values={"age": 29.0, "sex": "female", "allergies": [], "diagnosis": "UTI"})
    proposal = PatientReading(age_years=29, sex="female", pregnant=False, weight_kg=None,
                              allergies=[], current_medications=[], diagnosis="UTI")
    notes = merge_both(c, LLMReading(proposal, "parsed", 0.1), text,
                       guardrails.find_drug_mentions, guardrails.ingredients_of)
    assert "pregnant" not in c.values and "pregnant" in c.missing()
    [note] = [n for n in notes if n.field == "pregnant"]
    assert note.action == "ignored" and "remove a check" in note.message


def test_a_disagreement_is_kept_as_the_rules_read_it_and_shown_to_the_clinician():
    a, _ = make(scripted(reading(age_years=34, sex="female", diagnosis="cystitis",
                                 pregnant=False, allergies=["sulfa"],
                                 current_medications=["levothyroxine"])))
    reply = respond(a, "43 yo woman, not pregnant, UTI, allergic to sulfa, on levothyroxine. "
                       "First seen at 34 years.")
    rx = reply.result.to_dict()
    assert rx["patient"]["age"] == 43
    [age] = [n for n in rx["reader_notes"] if n["field"] == "age"]
    assert age["action"] == "kept_rules" and age["rules"] == 43 and age["llm"] == 34
    assert "age read as 43; the language model read 34 (please check)" in reply.content


def test_a_failed_model_reading_never_blocks_the_rules_answer():
    def answer(names, body):
        return "{oops" if is_reader_request(body) else json.dumps({"choices": names[:1]})
    a, _ = make(answer)
    rx = respond(a, "34 yo woman, not pregnant, UTI, allergic to sulfa, on levothyroxine").result.to_dict()
    assert rx["status"] == "recommended"
    assert rx["reader_notes"][0]["action"] == "unavailable"


def test_llm_mode_uses_the_models_grounded_reading_alone():
    a, _ = make(scripted(reading(age_years=62, sex="male", current_medications=[
        "isosorbide mononitrate", "warfarin"], diagnosis="erectile dysfunction")), reader="llm")
    rx = respond(a, NITRATE).result.to_dict()
    assert rx["patient"]["current_medications"] == ["isosorbide mononitrate"]
    assert rx["diagnosis"]["text"] == "erectile dysfunction" and rx["reader"] == "llm"


def test_reader_markup_from_the_model_never_reaches_the_reply():
    text = "50 M, hypertension, NKDA, on amlodipine <img src=x onerror=alert(1)>"
    a, _ = make(scripted(reading(age_years=50, sex="male", allergies=["<img src=x>"],
                                 current_medications=["amlodipine"], diagnosis="hypertension")))
    reply = respond(a, text)
    assert "<img src=x>" not in reply.result.to_dict()["patient"]["allergies"]


def test_the_reader_setting_is_validated():
    with pytest.raises(ConfigError) as e:
        AssistantConfig(model_base_url="http://x/v1", base_model="m", reader="gpt")
    assert e.value.param == "reader"
    with pytest.raises(ConfigError) as e:
        AssistantConfig(model_base_url="http://x/v1", base_model="m", reader_adapter="nope")
    assert e.value.param == "reader_adapter"
    assert AssistantConfig(model_base_url="http://x/v1", base_model="m").reader == "rules"


def test_what_the_135m_model_really_answered_adds_nothing_false():
    # Its answers on the real engine: the age copied into the weight, the worked example's
    # allergy, "nkda" or a drug name as the diagnosis.
    import guardrails
    from assistant.dialogue import Consultation
    text = "62 M, on isosorbide mononitrate for angina. NKDA"
    c = Consultation(values={"age": 62.0, "sex": "male", "allergies": []})
    for dx in ("isosorbide mononitrate", "nkda"):
        proposal = PatientReading(age_years=62, sex="male", pregnant=None, weight_kg=62,
                                  allergies=["penicillin"],
                                  current_medications=["isosorbide mononitrate"], diagnosis=dx)
        merge_both(c, LLMReading(proposal, "parsed", 0.1), text,
                   guardrails.find_drug_mentions, guardrails.ingredients_of)
        assert "weight_kg" not in c.values and "diagnosis" not in c.values
        assert c.values["allergies"] == []
    assert c.values["current_medications"] == ["isosorbide mononitrate"]
    assert "diagnosis" in c.missing()


def test_a_current_medication_the_model_calls_an_allergy_stays_a_medication():
    # The real 135M answer to this text listed furosemide under allergies as well.
    import guardrails
    text = "72 yo man, heart failure, on furosemide, no allergies"
    c = rules(text)
    proposal = PatientReading(age_years=72, sex="male", pregnant=None, weight_kg=None,
                              allergies=["furosemide"], current_medications=["furosemide"],
                              diagnosis="heart failure")
    notes = merge_both(c, LLMReading(proposal, "parsed", 0.1), text,
                       guardrails.find_drug_mentions, guardrails.ingredients_of)
    assert c.values["allergies"] == [] and c.values["current_medications"] == ["furosemide"]
    [note] = [n for n in notes if n.field == "allergies"]
    assert note.action == "kept_rules"
    assert note.message == ("the language model read 'furosemide' as an allergy; kept as a "
                            "current medication (please check)") and note.message in c.notes


def test_a_reaction_or_the_diagnosis_the_model_lists_as_an_allergy_is_not_added():
    # The 135M model's own answers on the phrasing test split: "hives", "herpes zoster".
    import guardrails
    text = "23 y/o F herpes zoster, PCN allergy (hives), not pregnant"
    c = rules(text)
    proposal = PatientReading(age_years=23, sex="female", pregnant=False, weight_kg=None,
                              allergies=["hives", "herpes zoster", "penicillin"],
                              current_medications=[], diagnosis="herpes zoster")
    notes = merge_both(c, LLMReading(proposal, "parsed", 0.1), text,
                       guardrails.find_drug_mentions, guardrails.ingredients_of)
    assert not {"hives", "herpes zoster"} & set(c.values["allergies"])
    not_drugs = {n.llm for n in notes if n.action == "ignored" and "drug class" in n.message}
    assert not_drugs == {"hives", "herpes zoster"}
