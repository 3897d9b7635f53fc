"""Rules from the second clinician review of held-out cases, each naming its source."""

from __future__ import annotations

import guardrails
from rxassist.cases import Diagnosis, Patient


def _flags(drug, patient, dx):
    return guardrails.check([drug], patient, diagnosis=dx).flags


def test_a_second_p2y12_inhibitor_is_a_duplicate():
    """2016 ACC/AHA DAPT focused update: aspirin with one P2Y12 inhibitor, never two."""
    flags = _flags("clopidogrel", Patient(age=64, sex="male", current_medications=["ticagrelor"]),
                   Diagnosis(text="Prevent blood clots", code="D75.9P"))
    assert any(f.kind == "duplicate_class" and "Levine" in f.basis for f in flags)


def test_a_reliever_inhaler_implies_asthma_for_beta_blockers():
    """Non-selective beta-blockers are contraindicated in asthma (GINA 2024; propranolol
    label); albuterol or montelukast among the current medications implies it."""
    patient = Patient(age=53, sex="female", current_medications=["albuterol"])
    dx = Diagnosis(text="Prevent tachycardia", code="R00.0P")
    flags = _flags("propranolol", patient, dx)
    assert any(f.kind == "condition" and f.severity == "critical" and "asthma" in f.message
               for f in flags)
    assert not any(f.severity == "critical" for f in _flags("propranolol", Patient(
        age=53, sex="female"), dx))


def test_verapamil_on_diltiazem_is_a_duplicate():
    """Verapamil and diltiazem FDA labels: additive bradycardia, block and hypotension."""
    flags = _flags("verapamil", Patient(age=80, sex="female", current_medications=["diltiazem"]),
                   Diagnosis(text="Cardiac arrhythmia, unspecified", code="I49.9"))
    assert any(f.kind == "duplicate_class" and "verapamil and diltiazem FDA labels" in f.basis
               for f in flags)


def test_fosfomycin_is_flagged_below_12():
    """Monurol label: safety and effectiveness at 12 years and younger not established."""
    flags = _flags("fosfomycin", Patient(age=2, sex="female"),
                   Diagnosis(text="Cystitis", code="N30"))
    assert any(f.severity == "warning" and "Monurol" in f.basis for f in flags)


def test_omeprazole_or_esomeprazole_with_clopidogrel_either_way():
    """FDA Drug Safety Communication 2009/2010: CYP2C19 inhibition weakens clopidogrel."""
    dx = Diagnosis(text="Heartburn", code="R12")
    on_clopidogrel = _flags("omeprazole", Patient(age=60, sex="male",
                                                  current_medications=["clopidogrel"]), dx)
    assert any(f.kind == "reduced_effect" and f.severity == "critical"
               and "FDA Drug Safety Communication" in f.basis for f in on_clopidogrel)
    on_esomeprazole = _flags("clopidogrel", Patient(age=60, sex="male",
                                                    current_medications=["esomeprazole"]),
                             Diagnosis(text="Prevent heart attack", code="I21.P"))
    assert any(f.kind == "reduced_effect" for f in on_esomeprazole)
    assert not any(f.kind == "reduced_effect" for f in _flags(
        "pantoprazole", Patient(age=60, sex="male", current_medications=["clopidogrel"]), dx))


def test_prandial_insulin_alone_is_not_a_start_for_type_2_diabetes():
    """ADA 2024 sec. 9: basal insulin first; prandial insulin is added to it."""
    dx = Diagnosis(text="Type 2 diabetes mellitus", code="E11")
    alone = _flags("insulin aspart", Patient(age=68, sex="male", current_medications=["metformin"]),
                   dx)
    assert any(f.severity == "critical" and "ADA Standards" in f.basis for f in alone)
    beside = _flags("insulin aspart", Patient(age=68, sex="male", current_medications=[
        "metformin", "insulin glargine"]), dx)
    assert not any(f.severity == "critical" for f in beside)
    assert not any(f.severity == "critical" for f in _flags(
        "insulin aspart", Patient(age=30, sex="male", current_medications=[]),
        Diagnosis(text="Type 1 diabetes mellitus", code="E10")))


def test_a_phosphate_binder_implies_advanced_kidney_disease():
    """KDIGO CKD-MBD: phosphate binders are for advanced CKD; thiazides do not work below eGFR
    30 and NSAIDs harm (the advanced CKD rules' sources)."""
    patient = Patient(age=66, sex="female", current_medications=["sevelamer"])
    dx = Diagnosis(text="Essential (primary) hypertension", code="I10")
    assert any(f.severity == "critical" and "advanced chronic kidney disease" in f.message
               for f in _flags("hydrochlorothiazide", patient, dx))


def test_simvastatin_with_diltiazem_or_amiodarone_is_a_myopathy_warning_either_way():
    """FDA Drug Safety Communication June 2011: simvastatin capped at 10 mg with diltiazem and
    20 mg with amiodarone; pravastatin is not affected."""
    dx = Diagnosis(text="Hyperlipidemia, unspecified", code="E78.5")
    on_diltiazem = _flags("simvastatin", Patient(age=66, sex="male",
                                                 current_medications=["diltiazem"]), dx)
    assert any(f.kind == "myopathy" and f.severity == "warning" and "June 2011" in f.basis
               for f in on_diltiazem)
    on_simvastatin = _flags("amiodarone", Patient(age=66, sex="male",
                                                  current_medications=["simvastatin"]),
                            Diagnosis(text="Atrial fibrillation", code="I48.91"))
    assert any(f.kind == "myopathy" for f in on_simvastatin)
    assert not any(f.kind == "myopathy" for f in _flags(
        "pravastatin", Patient(age=66, sex="male", current_medications=["diltiazem"]), dx))


def test_simvastatin_gives_way_to_other_statins_on_diltiazem():
    """2018 AHA/ACC cholesterol guideline statins; with the simvastatin cap the clean statins
    are offered and simvastatin is shown excluded."""
    from recommend.shortlist import shortlist
    sl = shortlist(Patient(age=66, sex="male", current_medications=["diltiazem"]),
                   Diagnosis(text="Hyperlipidemia, unspecified", code="E78.5"), offer=None)
    assert "simvastatin" not in sl.names and "atorvastatin" in sl.names
    assert any(e.drug == "simvastatin" and "myopathy" in e.reason for e in sl.excluded)


def test_desmopressin_and_imipramine_for_bedwetting_only_from_6():
    """Desmopressin tablets and imipramine (Tofranil) FDA labels: childhood enuresis from 6
    years; ICCS 2020. Imipramine is otherwise not a children's antidepressant (boxed warning),
    and desmopressin for night-time wetting in an older adult is the Beers 2023 nocturia
    hazard (hyponatraemia)."""
    dx = Diagnosis(text="Enuresis not due to a substance or known physiological condition",
                   code="F98.0")
    for drug in ("desmopressin", "imipramine"):
        assert any(f.severity == "critical" and "FDA label" in f.basis
                   for f in _flags(drug, Patient(age=4, sex="male"), dx)), drug
        assert not any(f.severity == "critical"
                       for f in _flags(drug, Patient(age=8, sex="male"), dx)), drug
    assert any(f.severity == "critical" and "boxed warning" in f.basis for f in _flags(
        "imipramine", Patient(age=12, sex="female"),
        Diagnosis(text="Major depressive disorder, single episode", code="F32.9")))
    assert any(f.severity == "critical" and "Beers" in f.basis for f in _flags(
        "desmopressin", Patient(age=78, sex="female"), Diagnosis(text="bedwetting")))
    # Desmopressin for diabetes insipidus keeps its own use in a young child.
    assert not any(f.severity == "critical" for f in _flags(
        "desmopressin", Patient(age=3, sex="male"),
        Diagnosis(text="Central diabetes insipidus", code="E23.2")))


def test_an_acute_on_chronic_kidney_injury_is_an_acute_kidney_injury():
    """KDIGO 2012 AKI: hold ACE inhibitors, ARBs, SGLT2 inhibitors and metformin; the acute
    kidney injury condition reads 'acute on chronic' and 'acute kidney failure' too."""
    for text in ("acute on chronic kidney disease", "acute kidney failure"):
        for drug in ("lisinopril", "dapagliflozin", "metformin"):
            assert any(f.kind == "condition" and f.severity == "critical" for f in _flags(
                drug, Patient(age=70, sex="male"), Diagnosis(text=text))), (text, drug)


def test_prasugrel_is_contraindicated_after_a_stroke_or_tia():
    """Effient (prasugrel) FDA label: boxed warning, contraindicated with a history of TIA or
    stroke; clopidogrel is not."""
    dx = Diagnosis(text="Presence of coronary angioplasty implant and graft", code="Z95.5")
    for patient in (Patient(age=66, sex="male", comorbidities=["history of stroke"]),
                    Patient(age=66, sex="male", comorbidities=["TIA (G45.9)"])):
        assert any(f.kind == "condition" and f.severity == "critical" and "Effient" in f.basis
                   for f in _flags("prasugrel", patient, dx))
        assert not any(f.severity == "critical" for f in _flags("clopidogrel", patient, dx))
    assert not any(f.severity == "critical" for f in _flags(
        "prasugrel", Patient(age=60, sex="male"), dx))


def test_aspirin_with_an_anticoagulant_is_a_bleeding_warning():
    """2020 ACC Expert Consensus Decision Pathway (AF or VTE with PCI): an anticoagulant with
    clopidogrel; aspirin for the first weeks only. ANSM rates antiplatelet-dose aspirin with an
    oral anticoagulant only 'to take into account', so the pair rule carries the warning."""
    dx = Diagnosis(text="Presence of coronary angioplasty implant and graft", code="Z95.5")
    flags = _flags("aspirin", Patient(age=72, sex="female", current_medications=["apixaban"]),
                   dx)
    assert any(f.kind == "bleeding" and f.severity == "warning" and "Kumbhani" in f.basis
               for f in flags)
    assert not any(f.kind == "bleeding" for f in _flags(
        "clopidogrel", Patient(age=72, sex="female", current_medications=["apixaban"]), dx))


def test_an_nsaid_on_an_ace_inhibitor_and_a_diuretic_is_the_triple_whammy():
    """Lapi F et al., BMJ 2013: NSAID + ACE inhibitor/ARB + diuretic, acute kidney injury;
    critical at 65 or older, a warning below; no flag with only one of the two."""
    dx = Diagnosis(text="Other arthritis", code="M13")
    on_both = ["lisinopril", "chlorthalidone"]
    older = _flags("naproxen", Patient(age=72, sex="female", current_medications=on_both), dx)
    assert any(f.kind == "kidney_injury" and f.severity == "critical" and "Lapi" in f.basis
               for f in older)
    younger = _flags("naproxen", Patient(age=50, sex="female",
                                         current_medications=["hydrochlorothiazide; lisinopril"]),
                     dx)
    assert any(f.kind == "kidney_injury" and f.severity == "warning" for f in younger)
    assert not any(f.kind == "kidney_injury" for f in _flags(
        "naproxen", Patient(age=72, sex="female", current_medications=["lisinopril"]), dx))


def test_an_antiepileptic_implies_a_seizure_disorder_for_bupropion():
    """Bupropion FDA label: contraindicated with a seizure disorder; oxcarbazepine among the
    current medications implies one (lamotrigine, also a mood stabiliser, does not)."""
    dx = Diagnosis(text="Major depressive disorder, single episode", code="F32.9")
    flags = _flags("bupropion", Patient(age=45, sex="female",
                                        current_medications=["oxcarbazepine"]), dx)
    assert any(f.kind == "condition" and "oxcarbazepine" in f.message for f in flags)
    assert not any(f.kind == "condition" for f in _flags(
        "bupropion", Patient(age=45, sex="female", current_medications=["lamotrigine"]), dx))


def test_loperamide_is_not_a_cns_opioid():
    """Loperamide FDA label: peripheral opioid agonist, no CNS effect at labelled doses; it is
    not an opioid-with-gabapentinoid combination (FDA 2019 communication is about CNS
    opioids)."""
    flags = _flags("loperamide", Patient(age=80, sex="female",
                                         current_medications=["gabapentin", "oxycodone"]),
                   Diagnosis(text="Diarrhea, unspecified", code="R19.7"))
    assert not any(f.kind in ("cns_depressant", "duplicate_class") for f in flags)


def test_no_antimotility_drug_or_salicylate_for_a_childs_diarrhoea():
    """IDSA 2017 infectious diarrhea guideline: no antimotility drugs under 18; bismuth
    subsalicylate OTC labeling: under 12 ask a doctor (Reye's syndrome)."""
    dx = Diagnosis(text="Diarrhea, unspecified", code="R19.7")
    child = Patient(age=6, sex="male")
    assert any(f.severity == "critical" and "IDSA 2017" in f.basis
               for f in _flags("loperamide", child, dx))
    assert any(f.severity == "critical" and "Reye" in f.message
               for f in _flags("bismuth subsalicylate", child, dx))
    assert not any(f.severity == "critical" for f in _flags("loperamide", Patient(
        age=35, sex="male"), dx))


def test_febuxostat_is_reserved_for_when_allopurinol_cannot_be_used():
    """FDA Drug Safety Communication February 2019: febuxostat limited to patients who cannot
    take allopurinol or in whom it fails; so it gives way to allopurinol, and is offered,
    flagged, to a patient allergic to allopurinol."""
    from recommend.shortlist import shortlist
    dx = Diagnosis(text="Chronic gout", code="M1A")
    sl = shortlist(Patient(age=41, sex="male", allergies=[]), dx, offer=None)
    assert sl.names[0] == "allopurinol" and "febuxostat" not in sl.names
    assert any(e.drug == "febuxostat" and "February 2019" in f.basis
               for e in sl.excluded for f in e.flags)
    allergic = shortlist(Patient(age=41, sex="male", allergies=["allopurinol"]), dx, offer=None)
    assert "febuxostat" in allergic.names and allergic.warnings["febuxostat"]


def test_an_nsaid_with_a_systemic_glucocorticoid_is_avoided_at_80():
    """AGS Beers Criteria 2023: in older adults avoid NSAIDs with corticosteroids unless
    alternatives fail; a warning below 65."""
    dx = Diagnosis(text="Dorsalgia, unspecified", code="M54.9")
    older = _flags("naproxen", Patient(age=80, sex="female", current_medications=["prednisone"]),
                   dx)
    assert any(f.kind == "bleeding" and f.severity == "critical" and "Beers" in f.basis
               for f in older)
    younger = _flags("naproxen", Patient(age=50, sex="female",
                                         current_medications=["prednisone"]), dx)
    assert any(f.kind == "bleeding" and f.severity == "warning" for f in younger)
