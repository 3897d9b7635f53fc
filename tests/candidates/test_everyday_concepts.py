"""Everyday diagnoses as clinicians type them, which read label or record leftovers before
(niacin for vitamin D deficiency, amphetamine for obesity, prednisolone for bacterial
conjunctivitis, griseofulvin and hydrocortisone for athlete's foot, naltrexone in opioid
withdrawal): each reads a concept with its guideline's rows."""

from __future__ import annotations

import pytest

from recommend.candidates import load_index
from recommend.shortlist import shortlist
from rxassist.cases import Diagnosis, Patient


def _names(text, code=None, **kw):
    r = load_index().lookup(text, code, **kw)
    return [c.name for c in r.candidates], {h.name: h.reason for h in r.held_back}, r


@pytest.mark.parametrize("text,code,first,never,cite", [
    ("vitamin D deficiency", "E55.9", {"cholecalciferol", "ergocalciferol"},
     {"niacin", "cyanocobalamin", "calcitriol"}, "Endocrine Society 2011"),
    ("athlete's foot", None, {"terbinafine", "clotrimazole", "miconazole"},
     {"griseofulvin", "hydrocortisone", "betamethasone"}, "AAFP"),
    ("conjunctivitis, bacterial", None, {"polymyxin b; trimethoprim", "erythromycin"},
     {"prednisolone"}, "Conjunctivitis Preferred Practice Pattern 2023"),
    ("obesity", "E66.9", {"semaglutide", "phentermine; topiramate"},
     {"amphetamine", "dextroamphetamine"}, "AGA 2022"),
    ("trigeminal neuralgia", "G50.0", {"carbamazepine", "oxcarbazepine"}, {"duloxetine"},
     "AAN/EFNS 2008"),
    ("alcohol use disorder", None, {"naltrexone", "acamprosate"}, set(), "APA 2018"),
    ("opioid use disorder", None, {"buprenorphine", "buprenorphine; naloxone", "methadone"},
     set(), "ASAM 2020"),
    ("hyperthyroidism, graves", None, {"methimazole"}, {"phenobarbital"}, "2016 ATA"),
    ("pernicious anemia", None, {"cyanocobalamin", "hydroxocobalamin"}, {"prednisone"},
     "British Society for Haematology 2014"),
    ("rosacea", "L71.9", {"metronidazole", "azelaic acid", "ivermectin"},
     {"prednisolone", "prednisone", "hydrocortisone"}, "National Rosacea Society"),
    ("seborrheic dermatitis", "L21", {"ketoconazole", "ciclopirox"}, {"prednisone"}, "AAFP"),
    ("head lice", "B85.0", {"permethrin"}, set(), "AAP clinical report, Head lice"),
    ("pinworms", None, {"albendazole", "mebendazole", "pyrantel"}, set(), "CDC"),
    ("genital herpes", "A60.04", {"valacyclovir", "acyclovir", "famciclovir"}, set(),
     "CDC Sexually Transmitted"),
    ("onychomycosis", None, {"terbinafine"}, {"griseofulvin"}, "AAFP"),
    ("COVID-19", None, {"nirmatrelvir; ritonavir"}, {"dexamethasone"}, "IDSA"),
    ("hot flashes, menopause", None, {"estradiol"}, set(), "North American Menopause"),
    ("contraception", None, {"ethinyl estradiol; levonorgestrel",
                             "ethinyl estradiol; norgestimate"}, set(), "Medical Eligibility"),
    ("latent TB", None, {"rifampin", "rifapentine"}, set(), "CDC/NTCA 2020"),
])
def test_everyday_diagnosis_reads_its_guideline(text, code, first, never, cite):
    names, held, r = _names(text, code)
    rows = {c.name: e.strength for c in r.candidates for e in c.evidence
            if e.source == "guideline"}
    assert all(rows.get(d) == "strong" for d in first) and names[0] in rows, names
    assert first <= set(names) and names[0] in rows and set(names[:2]) & first, names
    assert not never & set(names), names
    assert any(cite in e.detail for c in r.candidates for e in c.evidence)


def test_opioid_withdrawal_never_gets_naltrexone():
    """ASAM 2020: an opioid antagonist precipitates withdrawal; buprenorphine or methadone,
    an alpha-2 agonist where they are not used."""
    names, held, _ = _names("Opioid dependence with withdrawal", "F11.23")
    assert "naltrexone" not in names and held["naltrexone"].startswith("not for")
    assert {"methadone", "buprenorphine"} <= set(names[:3])


def test_chlamydia_is_doxycycline_and_amoxicillin_only_in_pregnancy():
    """CDC STI guidelines 2021: doxycycline 7 days; azithromycin or levofloxacin as
    alternatives; in pregnancy azithromycin, amoxicillin as the alternative."""
    sl = shortlist(Patient(age=22, sex="male"), Diagnosis(text="chlamydia"))
    assert sl.names[0] == "doxycycline" and "amoxicillin" not in sl.names
    sl = shortlist(Patient(age=24, sex="female", pregnant=True), Diagnosis(text="chlamydia"))
    assert sl.names[0] == "azithromycin" and "doxycycline" not in sl.names


def test_hyponatraemia_gets_advice_and_no_vaptan():
    """Verbalis 2013 / European 2014 hyponatraemia guidelines: find the cause and correct
    slowly; vaptans are specialist, in-hospital drugs."""
    names, held, r = _names("hyponatremia", "E87.1")
    assert not names and "find the cause" in r.advice[0]
    assert held["tolvaptan"].startswith("not for")


def test_vertigo_gets_a_short_course_suppressant_but_not_the_label_leftovers():
    """AAFP 2017 dizziness review: a vestibular suppressant only briefly for acute vestibular
    vertigo; niacin, cinnarizine and diphenidol (label rows) are not offered."""
    names, _, _ = _names("Dizziness and giddiness", "R42")
    assert names[0] == "meclizine"
    assert not {"niacin", "cinnarizine", "diphenidol"} & set(names)
    at_68 = shortlist(Patient(age=68, sex="female"), Diagnosis(text="vertigo"))
    assert "meclizine" not in at_68.names       # AGS Beers 2023: strongly anticholinergic


def test_naproxen_is_not_a_childs_antipyretic():
    """AAP 2011 fever clinical report: acetaminophen and ibuprofen; Naprosyn label: juvenile
    arthritis from 2 years only."""
    sl = shortlist(Patient(age=2, sex="male"), Diagnosis(text="fever"))
    assert set(sl.names) == {"ibuprofen", "acetaminophen"}
    assert "naproxen" in {e.drug for e in sl.excluded}
    adult = shortlist(Patient(age=30, sex="male"), Diagnosis(text="fever"))
    assert "naproxen" in adult.names


def test_an_unspecified_injury_gets_nsaids_not_an_opioid_and_chest_pain_gets_advice():
    """ACP/AAFP 2020 acute musculoskeletal injury guideline: topical then oral NSAIDs, against
    opioids (the T14.9 records put hydrocodone first). 2021 AHA/ACC chest pain guideline:
    exclude an acute coronary syndrome first; nitroglycerin (the R07.9 records) is not a test.
    A head injury is assessed first (Canadian CT Head Rule), not given the injury's NSAIDs."""
    names, held, _ = _names("Unspecified injury", "T14.9")
    assert names[0] == "diclofenac" and "acetaminophen; hydrocodone" not in names
    assert held["acetaminophen; hydrocodone"].startswith("not for")
    for text, code, cite in (("Chest pain, unspecified", "R07.9", "2021 AHA/ACC"),
                             ("head injury", None, "Canadian CT Head Rule")):
        names, _, r = _names(text, code)
        assert not names and cite in r.advice[0]


def test_type_2_diabetes_on_metformin_adds_an_sglt2_inhibitor_or_glp1_agonist_before_insulin():
    """ADA Standards of Care 2024 sec. 9: GLP-1 receptor agonists and SGLT2 inhibitors for
    cardiorenal benefit and weight; basal insulin when A1C is above 10% or glucose 300 mg/dL."""
    sl = shortlist(Patient(age=55, sex="male", current_medications=["metformin"]),
                   Diagnosis(text="type 2 diabetes"))
    assert sl.names[0] in {"empagliflozin", "dapagliflozin", "semaglutide", "liraglutide"}
    assert "insulin glargine" not in sl.names[:3]
    new = shortlist(Patient(age=50, sex="female"), Diagnosis(text="type 2 diabetes"))
    assert new.names[0] == "metformin"


def test_long_term_antiplatelet_use_is_not_answered_with_an_anticoagulant():
    """ICD-10-CM 2024: long-term anticoagulant use is Z79.01; Z79.02 is antithrombotics/
    antiplatelets, so warfarin (first in the Z79.02 records) is held back with that reason."""
    names, held, _ = _names("Long term (current) use of antithrombotics/antiplatelets", "Z79.02")
    assert "warfarin" not in names and held["warfarin"].startswith("not for")
    assert "clopidogrel" in names
