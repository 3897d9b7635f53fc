"""Drug-versus-patient rules (guardrails/data/patient_rules.json): every rule fires for a patient
it is written for, with its source in `basis`, and stays silent for one it is not; plus the
clinical cases the rules were written for."""

from __future__ import annotations

import pytest

import guardrails
from guardrails import _patient_rules
from guardrails._types import SEVERITY_ORDER

RULES = _patient_rules.load()


def _member(drugs, avoid: frozenset[str] = frozenset()) -> str:
    """An ingredient the rule covers whose own name reads back exactly as that ingredient."""
    for name in sorted(RULES.members(drugs) - avoid):
        d = guardrails.normalize(name)
        if d.status == "generic" and d.ingredients == [name]:
            return name
    raise AssertionError(f"no readable member in {drugs}")


def _flags(drugs, patient, kind, diagnosis=None):
    return [f for f in guardrails.check(drugs, patient, diagnosis=diagnosis).flags
            if f.kind == kind]


def _at_least(flags, severity: str) -> bool:
    return any(SEVERITY_ORDER[f.severity] <= SEVERITY_ORDER[severity] for f in flags)


def test_rules_load_name_known_drugs_and_cite_a_source():
    assert RULES.names_not_in_kb() == []
    every = [*RULES.kidney, *RULES.dialysis, *RULES.older_adults, *RULES.children,
             *RULES.breastfeeding, *RULES.combinations, *RULES.add_on_only,
             *(r for c in RULES.conditions for r in c.rules)]
    assert every and all(len(r.basis) > 10 for r in every)
    assert all(w.note and w.date for w in RULES.withdrawn)


def _dx(match):
    """A diagnosis text that satisfies an only_diagnosis match (or a neutral one)."""
    if match is None:
        return None
    return {"text": match.terms[0]} if match.terms else {"text": "x", "code": match.codes[0]}


@pytest.mark.parametrize("i", range(len(RULES.kidney)))
def test_each_kidney_rule(i):
    r = RULES.kidney[i]
    drug = _member(r.drugs)
    dx = _dx(r.only_diagnosis)
    below = {r.measure: max(1.0, r.below - 0.5)}
    assert _at_least(_flags([drug], below, "renal", dx), r.severity), (drug, r.basis)
    above = {r.measure: r.below + 1}
    assert all(r.advice not in f.message for f in _flags([drug], above, "renal", dx))
    if r.only_diagnosis is not None:
        other = {"text": "heart failure with reduced ejection fraction", "code": "I50.22"}
        assert all(r.advice not in f.message for f in _flags([drug], below, "renal", other))


@pytest.mark.parametrize("i", range(len(RULES.dialysis)))
def test_each_dialysis_rule(i):
    r = RULES.dialysis[i]
    drug = _member(r.drugs)
    assert _at_least(_flags([drug], {"dialysis": True}, "renal"), r.severity)
    assert not _flags([drug], {"dialysis": False}, "renal")


@pytest.mark.parametrize("i", range(len(RULES.older_adults)))
def test_each_older_adult_rule(i):
    r = RULES.older_adults[i]
    drug = _member(r.drugs)
    dx = _dx(r.only_diagnosis)
    got = _flags([drug], {"age": 75}, "older_adult", dx)
    assert _at_least(got, r.severity) and any(f.basis == r.basis for f in got), (drug, r.basis)
    assert not _flags([drug], {"age": 60}, "older_adult", dx)
    if r.unless_diagnosis is not None:
        assert all(f.basis != r.basis for f in
                   _flags([drug], {"age": 75}, "older_adult", _dx(r.unless_diagnosis)))


@pytest.mark.parametrize("i", range(len(RULES.children)))
def test_each_children_rule(i):
    r = RULES.children[i]
    drug = _member(r.drugs)
    if r.drugs.in_product_with:
        drug = f"{r.drugs.in_product_with[0]} and {drug}"
    dx = _dx(r.only_diagnosis)
    age = max(r.min_age, r.max_age - 0.5) if r.max_age > 1 else r.max_age / 2
    got = _flags([drug], {"age": age}, "contraindication", dx)
    assert _at_least(got, r.severity), (drug, age, r.basis)
    assert all(f.basis != r.basis for f in _flags([drug], {"age": 30}, "contraindication", dx))


@pytest.mark.parametrize("i", range(len(RULES.breastfeeding)))
def test_each_breastfeeding_rule(i):
    r = RULES.breastfeeding[i]
    drug = _member(r.drugs)
    assert _at_least(_flags([drug], {"breastfeeding": True}, "breastfeeding"), r.severity)
    assert not _flags([drug], {"breastfeeding": False}, "breastfeeding")


@pytest.mark.parametrize("w", RULES.withdrawn, ids=lambda w: w.ingredient)
def test_withdrawn_drugs_are_critical_with_their_date(w):
    (f,) = _flags([w.ingredient], None, "withdrawn")
    assert f.severity == "critical" and w.date in f.basis


@pytest.mark.parametrize("i", range(len(RULES.combinations)))
def test_each_combination_with_a_current_medication(i):
    c = RULES.combinations[i]
    a = _member(c.a)
    b = _member(c.b, avoid=frozenset({a}))
    # A three-drug rule needs its third current medication too, and nothing without it.
    also = [_member(c.with_also, avoid=frozenset({a, b}))] if c.with_also else []
    if also:
        assert not _flags([a], {"age": 40, "current_medications": [b]}, c.kind)
    got = _flags([a], {"age": 40, "current_medications": [b, *also]}, c.kind)
    assert _at_least(got, c.severity) and got[0].basis == c.basis, (a, b)
    if c.severity_older:
        assert _at_least(_flags([a], {"age": 70, "current_medications": [b, *also]}, c.kind),
                         c.severity_older)
    # Two new drugs are alternatives or the interaction table's business, not this rule's.
    assert not _flags([a, b, *also], {"age": 40}, c.kind)


@pytest.mark.parametrize("i", range(len(RULES.same_class)))
def test_each_same_class_rule_against_a_current_medication(i):
    r = RULES.same_class[i]
    members = r.classes
    from guardrails._patient_rules import Drugs
    a = _member(Drugs(classes=members[:1]))
    b = _member(Drugs(classes=members[-1:]), avoid=frozenset({a}))
    got = _flags([a], {"current_medications": [b]}, "duplicate_class")
    assert got and all(f.severity == "warning" for f in got)


@pytest.mark.parametrize("ci,ri", [(ci, ri) for ci, c in enumerate(RULES.conditions)
                                   for ri in range(len(c.rules))])
def test_each_condition_rule_as_comorbidity_and_as_diagnosis(ci, ri):
    cond = RULES.conditions[ci]
    r = cond.rules[ri]
    drug = _member(r.drugs)
    age = 75 if cond.min_age else 50
    term = cond.terms[0]
    got = _flags([drug], {"age": age, "comorbidities": [term]}, "condition")
    assert _at_least(got, r.severity), (drug, cond.name)
    assert "a known condition" in got[0].message
    got = _flags([drug], {"age": age}, "condition", {"text": term})
    assert _at_least(got, r.severity) and "the diagnosis" in got[0].message
    if cond.codes:
        code = cond.codes[0] + (".9" if "." not in cond.codes[0] else "")
        assert _at_least(_flags([drug], {"age": age, "comorbidities": [f"x ({code})"]},
                                "condition"), r.severity)


# -- the clinical cases the rules were written for -------------------------------------------

@pytest.mark.parametrize("drug, patient, diagnosis, kind, severity, source", [
    ("oxybutynin", {"age": 74, "sex": "female"}, "overactive bladder", "older_adult",
     "critical", "Beers"),
    ("metformin", {"age": 55, "egfr": 25}, "type 2 diabetes", "renal", "critical", "FDA label"),
    ("metformin", {"age": 55, "egfr": 40}, "type 2 diabetes", "renal", "warning", "FDA label"),
    ("metformin", {"age": 55, "ckd_stage": 4}, None, "renal", "critical", "FDA label"),
    ("zolpidem", {"age": 80}, "chronic insomnia", "older_adult", "critical", "Beers"),
    ("zolpidem", {"age": 12}, "insomnia", "contraindication", "critical", "FDA"),
    ("suvorexant", {"age": 40, "current_medications": ["hydrocodone"]}, "insomnia",
     "cns_depressant", "warning", "FDA"),
    ("trazodone", {"age": 12}, "insomnia", "contraindication", "critical", "AASM"),
    ("citalopram", {"age": 8}, "depression", "contraindication", "critical", "boxed warning"),
    ("bupropion", {"age": 8}, "ADHD", "contraindication", "critical", "boxed warning"),
    ("ibuprofen", {"age": 79, "current_medications": ["warfarin"]}, "knee osteoarthritis",
     "bleeding", "critical", "Beers"),
    ("naproxen", {"age": 50, "current_medications": ["apixaban"]}, "back pain", "bleeding",
     "critical", "DOAC"),
    ("nitrofurantoin", {"age": 80, "crcl": 25}, "cystitis", "renal", "critical", "Beers"),
    ("dabigatran", {"age": 70, "crcl": 25}, "atrial fibrillation", "renal", "critical", "Beers"),
    ("ranitidine", {}, "GERD", "withdrawn", "critical", "2020"),
    ("glipizide", {"age": 70}, "type 2 diabetes", "older_adult", "critical", "Beers"),
    ("hydrochlorothiazide", {"comorbidities": ["gout"]}, "hypertension", "condition", "critical",
     "ACR 2020"),
    ("hydrochlorothiazide", {"dialysis": True}, "hypertension", "renal", "critical", "anuria"),
    ("propranolol", {"comorbidities": ["asthma"]}, "migraine prophylaxis", "condition",
     "critical", "asthma"),
    ("pioglitazone", {"comorbidities": ["heart failure (I50.9)"]}, "type 2 diabetes",
     "condition", "critical", "boxed warning"),
    ("diltiazem", {"comorbidities": ["HFrEF, EF 30%"]}, "atrial fibrillation", "condition",
     "critical", "HFSA"),
    ("ibuprofen", {"comorbidities": ["CHF"]}, "knee pain", "condition", "critical", "HFSA"),
    ("bupropion", {"comorbidities": ["epilepsy"]}, "depression", "condition", "critical",
     "bupropion FDA label"),
    ("lisinopril", {}, {"text": "septic shock", "code": "R65.21"}, "condition", "critical",
     "Surviving Sepsis"),
    ("gentamicin", {}, {"text": "pyelonephritis with acute kidney injury"}, "condition",
     "critical", "KDIGO"),
    ("oxycodone", {"current_medications": ["alprazolam"]}, "fracture pain", "cns_depressant",
     "critical", "2016"),
    ("pregabalin", {"age": 70, "current_medications": ["oxycodone"]}, "neuropathic pain",
     "cns_depressant", "critical", "2019"),
    ("pregabalin", {"age": 50, "current_medications": ["oxycodone"]}, "neuropathic pain",
     "cns_depressant", "warning", "2019"),
    ("sertraline", {"current_medications": ["phenelzine"]}, "depression", "serotonergic",
     "critical", "MAOI"),
    ("tramadol", {"current_medications": ["sertraline"]}, "back pain", "serotonergic",
     "warning", "serotonin"),
    ("codeine", {"breastfeeding": True}, "pain", "breastfeeding", "critical", "2017"),
    # pediatric minimum ages and diagnoses (labels, AAP, pediatric insomnia consensus)
    ("fluticasone and salmeterol", {"age": 3}, "asthma", "contraindication", "critical",
     "Advair Diskus"),
    ("budesonide and formoterol", {"age": 4}, "asthma", "contraindication", "critical",
     "Symbicort"),
    ("tiotropium", {"age": 5}, "asthma", "contraindication", "critical", "Spiriva Respimat"),
    ("azithromycin", {"age": 7}, "acute bronchitis", "contraindication", "critical",
     "AAP 2014 bronchiolitis"),
    ("ipratropium", {"age": 7}, {"text": "acute bronchitis", "code": "J20.9"},
     "contraindication", "critical", "ipratropium FDA label"),
    ("hydroxyzine", {"age": 12}, "insomnia", "contraindication", "critical", "Owens"),
    ("diphenhydramine", {"age": 9}, "insomnia", "contraindication", "critical", "21 CFR 338"),
    ("diphenhydramine", {"age": 14}, "insomnia", "contraindication", "warning", "AASM 2017"),
    ("amobarbital", {"age": 12}, "insomnia", "contraindication", "critical", "Owens"),
    # pairs with a current medication
    ("metolazone", {"current_medications": ["furosemide"]}, "edema", "electrolyte", "warning",
     "2022 AHA/ACC/HFSA"),
    ("tramadol", {"age": 79, "current_medications": ["warfarin"]}, "knee osteoarthritis",
     "bleeding", "warning", "Ultram"),
    ("sertraline", {"current_medications": ["apixaban"]}, "depression", "bleeding", "warning",
     "SSRI and SNRI FDA labels"),
    # clinician review of held-out cases
    ("azithromycin", {"age": 10}, {"text": "Bronchitis, not specified as acute or chronic",
                                   "code": "J40"}, "contraindication", "critical", "AAP 2014"),
    ("tiotropium", {"age": 10}, {"text": "Bronchitis, not specified as acute or chronic",
                                 "code": "J40"}, "contraindication", "critical", "tiotropium and ipratropium FDA"),
    ("budesonide and formoterol", {"age": 5}, "asthma", "contraindication", "critical",
     "Symbicort"),
    ("fluticasone", {"age": 0.5}, "asthma", "contraindication", "critical", "Pulmicort"),
    ("fluticasone", {"age": 2}, "asthma", "contraindication", "warning", "Flovent HFA"),
    ("desmopressin", {"age": 73}, {"text": "nocturia", "code": "R35.1"}, "older_adult",
     "critical", "Beers"),
    ("flavoxate", {"age": 73}, "nocturia", "older_adult", "warning", "Beers"),
    ("trazodone", {"age": 78}, "insomnia", "older_adult", "warning", "AASM 2017"),
    ("metformin", {"age": 74}, {"text": "Elevated blood glucose level", "code": "R73.9"},
     "condition", "warning", "ADA Standards"),
    ("febuxostat", {"age": 70, "current_medications": ["clopidogrel"]}, "chronic gout",
     "condition", "warning", "FDA Drug Safety Communication February 2019"),
    ("simvastatin", {"age": 70, "current_medications": ["nitroglycerin"]},
     "hypercholesterolemia", "condition", "warning", "2018 AHA/ACC"),
    ("olanzapine", {"age": 45, "current_medications": ["sitagliptin"]}, "schizophrenia",
     "condition", "warning", "ADA/APA"),
    ("ibuprofen", {"age": 66, "current_medications": ["sertraline"]}, "back pain",
     "interaction", "warning", "ANSM"),
    ("venlafaxine", {"age": 80, "current_medications": ["meloxicam"]}, "anxiety", "bleeding",
     "warning", "SSRI and SNRI FDA labels"),
])
def test_clinical_case(drug, patient, diagnosis, kind, severity, source):
    got = _flags([drug], patient, kind, diagnosis)
    assert got, f"no {kind} flag for {drug}"
    assert got[0].severity == severity and source.lower() in got[0].basis.lower(), got[0]


def test_combination_and_age_rules_stay_within_their_labels():
    """Dulera from 5, Symbicort from 6; nebulized budesonide from 12 months; febuxostat keeps
    no heart-disease warning and metformin no warning without the condition; a child's chronic
    bronchitis is not acute."""
    assert not _flags(["mometasone and formoterol"], {"age": 5}, "contraindication", "asthma")
    assert not _flags(["budesonide and formoterol"], {"age": 6}, "contraindication", "asthma")
    assert not _flags(["budesonide"], {"age": 2}, "contraindication", "asthma")
    assert not _flags(["fluticasone"], {"age": 2}, "contraindication", "allergic rhinitis")
    # without heart disease febuxostat keeps only its line-of-therapy limit (FDA 2019)
    no_heart = _flags(["febuxostat"], {"age": 70, "current_medications": ["lisinopril"]},
                      "condition", "chronic gout")
    assert no_heart and all("February 2019" in f.basis and "implied" not in f.message
                            for f in no_heart)
    assert not _flags(["metformin"], {"age": 50}, "condition",
                      {"text": "Prediabetes", "code": "R73.03"})
    assert not _flags(["olanzapine"], {"age": 45, "current_medications": ["metformin"]},
                      "condition", "schizophrenia")
    assert not _flags(["amoxicillin"], {"age": 10}, "contraindication",
                      {"text": "protracted bacterial bronchitis"})
    # an NSAID started on an SSRI keeps the interaction table's flag and its rank (ACP 2017)
    assert not _flags(["ibuprofen"], {"age": 60, "current_medications": ["sertraline"]},
                      "bleeding", "chronic low back pain")
    (f,) = _flags(["febuxostat"], {"age": 70, "current_medications": ["clopidogrel"]},
                  "condition", "chronic gout")
    assert "implied by the current clopidogrel" in f.message


def test_same_class_as_a_current_medication():
    (f,) = _flags(["glimepiride"], {"current_medications": ["glipizide"]}, "duplicate_class")
    assert f.drugs == ["glimepiride", "glipizide"] and "sulfonylureas" in f.message
    assert _flags(["naproxen"], {"current_medications": ["ibuprofen"]}, "duplicate_class")
    assert _flags(["losartan"], {"current_medications": ["lisinopril"]}, "duplicate_class")
    assert not _flags(["metformin"], {"current_medications": ["glipizide"]}, "duplicate_class")


def test_pediatric_rules_stay_out_of_their_labelled_ages_and_other_diagnoses():
    # Advair Diskus from 4, Breo/Dulera from 5, Spiriva Respimat (asthma) from 6 (FDA labels)
    assert not _flags(["fluticasone and salmeterol"], {"age": 8}, "contraindication", "asthma")
    assert not _flags(["tiotropium"], {"age": 8}, "contraindication", "asthma")
    # antibiotics stay right for a child's pertussis or pneumonia; adults are not this rule's
    assert not _flags(["azithromycin"], {"age": 7}, "contraindication", "pertussis")
    assert not _flags(["amoxicillin"], {"age": 7}, "contraindication", "pneumonia")
    assert not _flags(["azithromycin"], {"age": 40}, "contraindication", "acute bronchitis")
    # hydroxyzine for a child's itch or anxiety is labelled; only sleep is ruled out
    assert not _flags(["hydroxyzine"], {"age": 10}, "contraindication", "pruritus")


def test_h1_antihistamines_and_relievers_are_one_class_each():
    """Therapeutic duplication (cetirizine is hydroxyzine's metabolite; one SABA reliever,
    GINA 2024/NAEPP 2020)."""
    for new, current in (("cetirizine", "hydroxyzine"), ("levocetirizine", "loratadine"),
                         ("fexofenadine", "desloratadine"), ("albuterol", "levalbuterol")):
        got = _flags([new], {"current_medications": [current]}, "duplicate_class")
        assert got and got[0].severity == "warning", (new, current)
    assert not _flags(["cetirizine"], {"current_medications": ["meclizine"]}, "duplicate_class")


def test_a_thiazide_on_a_loop_diuretic_is_flagged_not_excluded():
    """Metolazone with a loop is deliberate in diuretic resistance (2022 AHA/ACC/HFSA): a
    warning in either order, never critical, and no same-class duplication."""
    for new, current in (("metolazone", "furosemide"), ("torsemide", "hydrochlorothiazide")):
        got = guardrails.check([new], {"current_medications": [current]}).flags
        assert [f.severity for f in got if f.kind == "electrolyte"] == ["warning"]
        assert not [f for f in got if f.kind == "duplicate_class" or f.severity == "critical"]


def test_sglt2_glucose_warnings_only_for_diabetes():
    """Little glucose lowering below eGFR 45 (dapagliflozin label) matters for diabetes; in
    heart failure the drug is started from eGFR 25 (2022 AHA/ACC/HFSA)."""
    hf = {"text": "heart failure with reduced ejection fraction"}
    assert not _flags(["dapagliflozin"], {"egfr": 28}, "renal", hf)
    assert _flags(["dapagliflozin"], {"egfr": 28}, "renal", "type 2 diabetes")
    assert _flags(["dapagliflozin"], {"egfr": 22}, "renal", hf)[0].severity == "critical"


def test_a_stage_that_spans_the_threshold_warns_and_says_so():
    (f,) = _flags(["nitrofurantoin"], {"ckd_stage": 3}, "renal")
    assert f.severity == "warning" and "CKD stage 3" in f.message
    (f,) = _flags(["metformin"], {"comorbidities": ["CKD stage 4 (N18.4)"]}, "renal")
    assert f.severity == "critical"


def test_exceptions_by_diagnosis():
    assert not _flags(["clonazepam"], {"age": 70}, "older_adult", {"text": "epilepsy"})
    # rules.json's Reye's-syndrome warning stays; the "under 16" exclusion does not apply.
    assert not guardrails.check(["aspirin"], {"age": 4}, diagnosis="Kawasaki disease").critical
    assert guardrails.check(["aspirin"], {"age": 4}, diagnosis="fever").critical
    assert not _flags(["fluoxetine"], {"age": 7}, "contraindication",
                      {"text": "OCD", "code": "F42.2"})
    assert _flags(["clonidine"], {"age": 70}, "older_adult", {"text": "hypertension"})
    assert not _flags(["clonidine"], {"age": 70}, "older_adult", {"text": "opioid withdrawal"})


def test_local_forms_and_no_patient_give_no_patient_flags():
    assert _flags(["timolol tablets"], {"comorbidities": ["asthma"]}, "condition")
    assert _flags(["timolol eye drops"], {"comorbidities": ["asthma"]}, "condition")
    assert not _flags(["diclofenac 1% gel"], {"comorbidities": ["heart failure"]}, "condition")
    assert _flags(["diclofenac tablets"], {"comorbidities": ["heart failure"]}, "condition")
    flags = guardrails.check(["metformin", "oxybutynin", "zolpidem"]).flags
    assert not [f for f in flags if f.kind in guardrails.PATIENT_KINDS]


@pytest.mark.parametrize("patient, param", [
    ({"egfr": 0}, "egfr"), ({"egfr": 400}, "egfr"), ({"crcl": 0}, "crcl"),
    ({"ckd_stage": -1}, "ckd_stage"), ({"ckd_stage": 6}, "ckd_stage"),
])
def test_impossible_kidney_values_are_errors_naming_the_field(patient, param):
    from rxassist.errors import InvalidInput
    with pytest.raises(InvalidInput, match=f"patient.{param}"):
        guardrails.check(["metformin"], patient)


def test_diagnosis_input_is_validated():
    from rxassist.errors import InvalidInput
    with pytest.raises(InvalidInput, match="diagnosis"):
        guardrails.check(["metformin"], None, diagnosis=5)
    assert guardrails.check(["lisinopril"], None, diagnosis="hypotension").critical


# Clinician review of held-out cases, second round (2026-12): infants, add-on only drugs,
# interactions with current medications.

@pytest.mark.parametrize("drug, age", [("triprolidine", 0.5), ("triprolidine", 3),
                                       ("chlorpheniramine", 1)])
def test_otc_cough_and_cold_antihistamines_not_under_4_fda_2008(drug, age):
    (f,) = _flags([drug], {"age": age}, "contraindication", {"text": "cough", "code": "R05"})
    assert f.severity == "critical" and "FDA 2008 public health advisory" in f.basis
    assert not _flags([drug], {"age": 5}, "contraindication", {"text": "cough", "code": "R05"})


@pytest.mark.parametrize("drug", ["hydromorphone", "morphine", "oxycodone", "tramadol"])
def test_no_opioid_as_a_childs_cough_medicine_fda_dsc_january_2018(drug):
    assert _at_least(_flags([drug], {"age": 0.5}, "contraindication", "cough"), "critical")
    (f,) = _flags([drug], {"age": 15}, "contraindication", {"text": "cough", "code": "R05"})
    assert f.severity == "critical" and "FDA Drug Safety Communication January 2018" in f.basis
    assert not _flags([drug], {"age": 30}, "contraindication", {"text": "cough", "code": "R05"})


def test_montelukast_for_asthma_from_12_months_singulair_label():
    (f,) = _flags(["montelukast"], {"age": 0.5}, "contraindication", "asthma")
    assert f.severity == "critical" and "Singulair (montelukast) FDA label" in f.basis
    assert not _flags(["montelukast"], {"age": 1.5}, "contraindication", "asthma")
    # perennial allergic rhinitis is labelled from 6 months: not this rule
    assert not _flags(["montelukast"], {"age": 0.75}, "contraindication", "allergic rhinitis")


def test_metaproterenol_under_6_is_a_warning_oral_label():
    (f,) = _flags(["metaproterenol"], {"age": 0.5}, "contraindication", "asthma")
    assert f.severity == "warning" and "metaproterenol sulfate tablets and syrup" in f.basis
    assert not _flags(["metaproterenol"], {"age": 7}, "contraindication", "asthma")


HYPERLIPIDEMIA = {"text": "hyperlipidemia", "code": "E78.5"}


@pytest.mark.parametrize("drug", ["ezetimibe", "evolocumab", "alirocumab"])
def test_non_statin_add_on_without_a_statin_2018_aha_acc(drug):
    (f,) = _flags([drug], {"age": 60, "current_medications": []}, "add_on", HYPERLIPIDEMIA)
    assert f.severity == "critical" and "2018 AHA/ACC" in f.basis
    # on a statin: the add-on the guideline means
    assert not _flags([drug], {"age": 60, "current_medications": ["atorvastatin 40 mg"]},
                      "add_on", HYPERLIPIDEMIA)
    # statin intolerance or a statin allergy: ezetimibe alone is the guideline's option
    assert not _flags([drug], {"age": 60, "current_medications": [],
                               "comorbidities": ["statin intolerance (myalgia)"]},
                      "add_on", HYPERLIPIDEMIA)
    assert not _flags([drug], {"age": 60, "current_medications": [],
                               "allergies": ["simvastatin"]}, "add_on", HYPERLIPIDEMIA)
    assert not _flags([drug], {"age": 60, "current_medications": [], "allergies": ["statins"]},
                      "add_on", HYPERLIPIDEMIA)
    # medications unknown: a warning asking to confirm, not an exclusion
    (u,) = _flags([drug], {"age": 60}, "add_on", HYPERLIPIDEMIA)
    assert u.severity == "warning" and "unknown" in u.message
    assert not _flags([drug], {"age": 60, "current_medications": []}, "add_on",
                      "hypertriglyceridemia")


def test_ezetimibe_simvastatin_product_is_not_an_add_on_alone():
    assert not _flags(["ezetimibe and simvastatin"], {"age": 60, "current_medications": []},
                      "add_on", HYPERLIPIDEMIA)


def test_opioid_with_an_antipsychotic_or_phenothiazine_fda_2016():
    (f,) = _flags(["prochlorperazine"], {"age": 50, "current_medications": ["oxycodone"]},
                  "cns_depressant", "nausea")
    assert f.severity == "warning" and "FDA Drug Safety Communication August 2016" in f.basis
    assert not _flags(["ondansetron"], {"age": 50, "current_medications": ["oxycodone"]},
                      "cns_depressant", "nausea")


def test_benzodiazepine_with_clozapine_clozaril_label():
    (f,) = _flags(["alprazolam"], {"age": 40, "current_medications": ["clozapine"]},
                  "cns_depressant", "anxiety")
    assert f.severity == "warning" and "Clozaril (clozapine) FDA label" in f.basis


def test_nsaid_with_clopidogrel_plavix_label():
    (f,) = _flags(["naproxen"], {"age": 60, "current_medications": ["clopidogrel"]},
                  "bleeding", "knee pain")
    assert f.severity == "warning" and "Plavix (clopidogrel) FDA label" in f.basis
    # dual antiplatelet therapy is deliberate: aspirin is not this rule
    assert not [f for f in _flags(["aspirin"], {"age": 60, "current_medications":
                                                ["clopidogrel"]}, "bleeding", "angina")
                if "Plavix" in f.basis]
