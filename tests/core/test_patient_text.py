"""The one patient-to-text renderer: its exact text (the adapter was trained on the prompt's
lines) and every user of it reading the same lines."""

from rxassist.cases import Case, Diagnosis, Patient
from rxassist.patient_text import (consultation_lines, diagnosis_text, patient_lines,
                                   patient_summary)

P = Patient(age=60.5, sex="female", pregnant=None, weight_kg=72.5, allergies=[],
            current_medications=["metformin 500 mg", "lisinopril"])
INFANT = Patient(age=0.5)
DX = Diagnosis(text="Essential hypertension", code="I10", system="ICD-10-CM")


def test_prompt_lines_are_pinned():
    assert patient_lines(P) == ["Age: 60 years", "Sex: female", "Pregnant: unknown",
                                "Weight: 72.5 kg", "Allergies: none",
                                "Current medications: metformin 500 mg, lisinopril"]
    assert patient_lines(INFANT) == ["Age: 6 months", "Sex: unknown", "Pregnant: unknown",
                                     "Weight: unknown", "Allergies: unknown",
                                     "Current medications: unknown"]


def test_summary_and_diagnosis_are_pinned():
    assert patient_summary(P) == ("age 60.5; sex female; pregnant unknown; allergies none; "
                                  "current medications metformin 500 mg, lisinopril")
    assert diagnosis_text(DX) == "Essential hypertension (I10)"
    assert diagnosis_text(DX, with_system=True) == "Essential hypertension (ICD-10-CM I10)"
    assert diagnosis_text(Diagnosis(text="UTI"), with_system=True) == "UTI"


def test_prompt_judge_and_eval_message_share_the_lines():
    from eval.judges import judge_user_message
    from eval.records import RecommendedDrug, SolverRecord
    from eval.targets import consultation_message
    from recommend.prompt import user_message

    head = "\n".join(consultation_lines(P, DX))
    assert head == ("Patient:\n" + "\n".join(patient_lines(P))
                    + "\nDiagnosis: Essential hypertension (I10)")
    assert user_message(P, DX, []) == head + "\nCandidates:"
    rec = SolverRecord(id="c", patient=P, diagnosis=DX, drugs=["x"],
                       output=[RecommendedDrug(drug="amlodipine")])
    assert judge_user_message(rec) == head + "\n\nRecommended drugs:\n1. amlodipine"
    msg = consultation_message(Case(id="c", patient=P, diagnosis=DX, drugs=["x"]))
    assert "\n".join(patient_lines(P)) in msg
    assert "\nDiagnosis: Essential hypertension (ICD-10-CM I10)\n" in msg


def test_the_assistant_reads_the_lines_back():
    import guardrails
    from assistant.extract import Extractor

    f = Extractor(guardrails.find_drug_mentions).extract("\n".join(patient_lines(P)))
    assert f.values["age"] == 60 and f.values["sex"] == "female"
    assert f.values["weight_kg"] == 72.5 and f.values["allergies"] == []
    assert "pregnant" in f.unknown
