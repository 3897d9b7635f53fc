"""Held-out NHANES diagnoses the assistant abstained on, or answered from record co-occurrence
only, although a guideline names the drug: each now reads a concept with cited rows
(recommend/candidates/data/concepts.tsv, guidelines.tsv), or the guideline's advice where no
drug is the answer."""

from __future__ import annotations

import pytest

from recommend.candidates import CandidateIndex, load_index
from recommend.shortlist import shortlist
from rxassist.cases import Diagnosis, Patient


@pytest.fixture(scope="module")
def idx() -> CandidateIndex:
    return load_index()


def _rows(r) -> dict[str, str]:
    """Candidate name -> the evidence text of its guideline row."""
    return {c.name: e.detail for c in r.candidates for e in c.evidence if e.source == "guideline"}


def _held(r) -> dict[str, str]:
    return {h.name: h.reason for h in r.held_back}


# ---- prevention codes (NHANES reason codes ending in P) -----------------------------------

def test_prevent_heart_attack_starts_with_a_statin():
    """2018 AHA/ACC cholesterol guideline and USPSTF 2022: a statin; aspirin is secondary
    prevention (ACC/AHA 2019, USPSTF 2022: not started for primary prevention in older
    adults): with a known vascular history it follows the statins, without one it is held
    back with that note."""
    r = load_index().lookup("Prevent heart attack/myocardial infarction", "I21.P",
                            vascular=True)
    assert [m.name for m in r.info.concepts] == ["prevention of myocardial infarction"]
    assert {c.name for c in r.candidates[:2]} == {"atorvastatin", "rosuvastatin"}
    rows = _rows(r)
    assert "2018 AHA/ACC Guideline on the Management of Blood Cholesterol" in rows["atorvastatin"]
    assert "alternative" in rows["aspirin"] and "secondary prevention" in rows["aspirin"]
    assert "2019 ACC/AHA Guideline on the Primary Prevention" in rows["aspirin"]
    r = load_index().lookup("Prevent heart attack/myocardial infarction", "I21.P")
    assert "aspirin" not in [c.name for c in r.candidates]
    assert "2019 ACC/AHA Guideline on the Primary Prevention" in _held(r)["aspirin"]
    # The text alone reads the same concept, not the acute infarction's rows (heparin).
    r = load_index().lookup("prevent heart attack")
    assert [m.name for m in r.info.concepts] == ["prevention of myocardial infarction"]
    assert "heparin" not in [c.name for c in r.candidates]


def test_prasugrel_is_not_started_to_prevent_a_heart_attack():
    """Effient label: ACS managed with PCI only (2016 ACC/AHA DAPT update); a patient whose
    statin and aspirin are taken must not get prasugrel as the record's leftover."""
    r = load_index().lookup("Prevent heart attack/myocardial infarction", "I21.P")
    assert "prasugrel" not in [c.name for c in r.candidates]
    assert any(h.name == "prasugrel" and h.reason.startswith("not for") for h in r.held_back)


def test_aspirin_to_prevent_a_heart_attack_is_not_offered_at_78_without_a_vascular_history():
    """AGS Beers 2023 and USPSTF 2022: aspirin is not started for primary prevention in an
    older adult; without a known vascular history it is held back (shown as excluded, with
    the reason), and a statin leads."""
    sl = shortlist(Patient(age=78, sex="male"),
                   Diagnosis(text="Prevent heart attack/myocardial infarction", code="I21.P"),
                   offer=None)
    assert sl.names[0] in {"atorvastatin", "rosuvastatin"}
    assert "aspirin" not in sl.names
    assert any(e.drug == "aspirin" and "vascular history" in e.reason for e in sl.excluded)


def test_prevent_stroke_is_long_term_prevention_not_thrombolysis(idx):
    """AHA/ASA 2021 secondary prevention: one antiplatelet and a high-intensity statin; the
    acute stroke's alteplase is not a prevention, and prasugrel is contraindicated after a
    stroke or TIA (Effient label)."""
    r = idx.lookup("Prevent stroke", "I63.P", vascular=True)
    assert [m.name for m in r.info.concepts] == ["prevention of stroke"]
    names = [c.name for c in r.candidates]
    assert {"clopidogrel", "aspirin", "atorvastatin"} == set(names[:3])
    assert "alteplase" not in names and "prasugrel" not in names
    assert "FDA label of prasugrel" in _held(r)["prasugrel"]
    assert "AHA/ASA 2021" in _rows(r)["clopidogrel"]


@pytest.mark.parametrize("text", ["stroke prevention in atrial fibrillation",
                                  "prevent stroke in afib"])
def test_stroke_prevention_in_atrial_fibrillation_stays_anticoagulation(idx, text):
    """2023 ACC/AHA/ACCP/HRS: in AF stroke is prevented by an oral anticoagulant, not an
    antiplatelet."""
    r = idx.lookup(text)
    assert [m.name for m in r.info.concepts] == ["atrial fibrillation"]
    assert "aspirin" not in [c.name for c in r.candidates]


# ---- label wording the ICD title lacks ----------------------------------------------------

def test_cutaneous_lupus_reads_the_discoid_lupus_label_and_starts_hydroxychloroquine(idx):
    """ICD-10-CM L93 'Lupus erythematosus' is cutaneous lupus: the concept's terms carry the
    label wording ('discoid lupus erythematosus', Plaquenil label) the title lacks, so the
    label now matches; EDF/EADV S2k 2017: antimalarial first systemic, topical steroid for
    localized lesions, methotrexate second line."""
    r = idx.lookup("Lupus erythematosus", "L93")
    assert [m.name for m in r.info.concepts] == ["cutaneous lupus erythematosus"]
    assert any(m.indication.lower() == "discoid lupus erythematosus" for m in r.info.indications)
    assert r.candidates[0].name == "hydroxychloroquine"
    rows = _rows(r)
    assert "EDF/EADV" in rows["hydroxychloroquine"] and "EDF/EADV" in rows["clobetasol"]
    assert "alternative" in rows["methotrexate"]
    # Systemic lupus is not this concept (no topical steroid rows for it).
    assert "cutaneous lupus erythematosus" not in [
        m.name for m in idx.lookup("systemic lupus erythematosus").info.concepts]


@pytest.mark.parametrize("text, code", [("Herpesviral vesicular dermatitis", "B00.1"),
                                        ("cold sores", None), ("herpes labialis", None)])
def test_cold_sores_get_the_herpes_labialis_antivirals(idx, text, code):
    """B00.1 is herpes labialis in these records: the 'Herpes Labialis' label rows now match;
    valacyclovir and famciclovir (FDA labels: one-day courses) first, acyclovir cream after.
    Before, 'cold sores' drew antihistamines and hydrocodone from record co-occurrence."""
    r = idx.lookup(text, code)
    assert [m.name for m in r.info.concepts] == ["herpes labialis"]
    names = [c.name for c in r.candidates]
    assert set(names) == {"valacyclovir", "famciclovir", "acyclovir"}
    rows = _rows(r)
    assert "FDA label of valacyclovir" in rows["valacyclovir"]
    assert "FDA label of famciclovir" in rows["famciclovir"]
    assert "alternative" in rows["acyclovir"]


# ---- H. pylori: a regimen is one candidate ------------------------------------------------

def test_h_pylori_gets_the_acg_2024_regimens_not_a_lone_ppi(idx):
    """ACG 2024 (Chey WD et al.): bismuth quadruple therapy first; rifabutin triple and
    vonoprazan-amoxicillin dual when susceptibility is unknown; clarithromycin triple only for a
    known-susceptible strain. A PPI's own H. pylori label row is the regimen's indication
    (_indication_filter), so rabeprazole alone is no longer offered."""
    r = idx.lookup("Helicobacter pylori [H. pylori] as the cause of diseases classified "
                   "elsewhere", "B96.81")
    assert [m.name for m in r.info.concepts] == ["Helicobacter pylori infection"]
    names = [c.name for c in r.candidates]
    assert names[0] == "bismuth subcitrate; metronidazole; omeprazole; tetracycline"
    assert set(names[1:]) == {"amoxicillin; omeprazole; rifabutin", "amoxicillin; vonoprazan"}
    assert "Am J Gastroenterol 2024" in r.candidates[0].evidence[0].reference
    assert _held(r)["amoxicillin; clarithromycin; omeprazole"].startswith(
        "not for Helicobacter pylori infection")
    assert idx.lookup("h pylori").candidates[0].name == names[0]


def test_h_pylori_with_penicillin_allergy_keeps_bismuth_quadruple_therapy():
    sl = shortlist(Patient(age=45, sex="male", allergies=["penicillin"], current_medications=[]),
                   Diagnosis(text="H. pylori infection", code="B96.81"), offer=None)
    assert list(sl.names) == ["bismuth subcitrate; metronidazole; omeprazole; tetracycline"]


# ---- premature ovarian insufficiency ------------------------------------------------------

def test_premature_menopause_gets_hormone_therapy_not_the_pcos_records(idx):
    """ESHRE 2016 POI guideline and NAMS 2022: estradiol until about 51, with a progestogen
    when the uterus is present; a combined pill when contraception is wanted. The E28 category
    (polycystic ovary syndrome: metformin) is not pooled for ovarian failure."""
    r = idx.lookup("Premature menopause", "E28.31")
    assert [m.name for m in r.info.concepts] == ["premature ovarian insufficiency"]
    names = [c.name for c in r.candidates]
    assert names[:2] == ["estradiol", "estradiol; progesterone"]
    assert "metformin" not in names
    rows = _rows(r)
    assert "ESHRE" in rows["estradiol"] and "progestogen" in rows["estradiol"]
    assert "alternative" in rows["ethinyl estradiol; levonorgestrel"]
    assert "clomiphene" in [c.name for c in idx.lookup("Polycystic ovarian syndrome", "E28.2")
                            .candidates]


# ---- nocturnal enuresis -------------------------------------------------------------------

def test_bedwetting_gets_desmopressin_from_6_and_imipramine_only_as_third_line(idx):
    """ICCS 2020 (Neveus T et al.): desmopressin or the alarm first, imipramine third line;
    desmopressin and imipramine FDA labels: from 6 years (guardrails' children rules)."""
    r = idx.lookup("Enuresis not due to a substance or known physiological condition", "F98.0",
                   age=8)
    assert [m.name for m in r.info.concepts] == ["enuresis"]
    assert [c.name for c in r.candidates] == ["desmopressin", "imipramine"]
    rows = _rows(r)
    assert "ICCS 2020" in rows["desmopressin"] and "alarm" in rows["desmopressin"]
    assert "alternative" in rows["imipramine"] and "third line" in rows["imipramine"]
    assert idx.lookup("bedwetting").candidates[0].name == "desmopressin"
    dx = Diagnosis(text="Enuresis not due to a substance or known physiological condition",
                   code="F98.0")
    assert shortlist(Patient(age=8, sex="male"), dx, offer=None).names[0] == "desmopressin"
    young = shortlist(Patient(age=4, sex="male"), dx, offer=None)
    assert not young.names
    assert {"desmopressin", "imipramine"} <= {e.drug for e in young.excluded}


# ---- chronic kidney disease ---------------------------------------------------------------

@pytest.mark.parametrize("text, code", [("Chronic kidney disease, unspecified", "N18.9"),
                                        ("Chronic kidney disease, stage 3 (moderate)", "N18.3"),
                                        ("Chronic kidney disease, stage 4 (severe)", "N18.4"),
                                        ("CKD (chronic kidney disease) stage 3b", None),
                                        ("stage 4 chronic kidney disease", None)])
def test_chronic_kidney_disease_gets_the_kdigo_2024_pillars(idx, text, code):
    """KDIGO 2024 CKD guideline: an SGLT2 inhibitor from eGFR 20 (dapagliflozin and
    empagliflozin labels: CKD at risk of progression) and an ACE inhibitor or ARB with
    albuminuria or hypertension."""
    r = idx.lookup(text, code)
    assert [m.name for m in r.info.concepts] == ["chronic kidney disease stages 1 to 4"]
    assert {c.name for c in r.candidates} == {"dapagliflozin", "empagliflozin", "lisinopril",
                                              "losartan"}
    rows = _rows(r)
    assert all("KDIGO 2024" in rows[d] for d in rows)
    assert "eGFR 20" in rows["dapagliflozin"]


@pytest.mark.parametrize("text, code", [("End stage renal disease", "N18.6"),
                                        ("Chronic kidney disease, stage 5", "N18.5"),
                                        ("chronic kidney disease stage 5", None),
                                        ("Dependence on renal dialysis", "Z99.2"),
                                        ("anemia in chronic kidney disease", None),
                                        ("acute on chronic kidney disease", None)])
def test_kidney_failure_dialysis_and_complications_are_not_the_ckd_concept(idx, text, code):
    """No SGLT2 inhibitor is started at kidney failure or on dialysis (KDIGO 2024; labels); a
    complication named in CKD, and an acute kidney injury on CKD, keep their own reading."""
    r = idx.lookup(text, code)
    assert "chronic kidney disease stages 1 to 4" not in [m.name for m in r.info.concepts]
    assert not {"dapagliflozin", "empagliflozin"} & {c.name for c in r.candidates}


def test_the_kidney_rules_still_decide_for_the_patient():
    """eGFR 18: no SGLT2 inhibitor is started (dapagliflozin label below 25, empagliflozin
    below 20); metformin stays excluded in advanced CKD; on dialysis SGLT2 inhibitors are
    contraindicated; on lisinopril a second RAS blocker is not added."""
    dx = Diagnosis(text="Chronic kidney disease, stage 4 (severe)", code="N18.4")
    sl = shortlist(Patient(age=70, sex="female", egfr=18), dx, offer=None)
    assert set(sl.names) == {"lisinopril", "losartan"}
    assert {"dapagliflozin", "empagliflozin"} <= {e.drug for e in sl.excluded}
    import guardrails
    assert any(f.severity == "critical" for f in guardrails.check(
        ["metformin"], Patient(age=70, sex="female"), diagnosis=dx).flags)
    assert any(f.severity == "critical" for f in guardrails.check(
        ["dapagliflozin"], Patient(age=70, sex="female", dialysis=True), diagnosis=Diagnosis(
            text="Dependence on renal dialysis", code="Z99.2")).flags)
    on_acei = shortlist(Patient(age=60, sex="male", current_medications=["lisinopril"]),
                        Diagnosis(text="Chronic kidney disease, unspecified", code="N18.9"),
                        offer=None)
    assert set(on_acei.names) == {"dapagliflozin", "empagliflozin"}


# ---- vague codes: advice, not record drugs --------------------------------------------------

@pytest.mark.parametrize("text, code, cite, held", [
    ("Bladder disorder, unspecified", "N32.9", "AUA/SUFU 2024", {"ciprofloxacin", "betaine"}),
    ("Edema, unspecified", "R60.9", "Trayes KP et al., Edema", {"furosemide", "triamterene",
                                                                  "acetazolamide"}),
    ("Localized edema", "R60.0", "Trayes KP et al., Edema", {"acetazolamide"}),
    ("peripheral edema", None, "Trayes KP et al., Edema", {"acetazolamide"}),
])
def test_a_vague_code_gets_find_the_cause_advice(idx, text, code, cite, held):
    """N32.9: find the bladder problem (infection, retention, overactive bladder, haematuria)
    and treat that (AUA/SUFU 2024, AUA 2023); oedema: find the cause, a diuretic only for
    heart, kidney or liver oedema (AAFP 2013 review)."""
    r = idx.lookup(text, code)
    assert not r.candidates and cite in r.advice[0], (text, r.advice)
    assert held <= {h.name for h in r.held_back if h.reason.startswith("no drug is offered")}


@pytest.mark.parametrize("text, drug", [("overactive bladder", "oxybutynin"),
                                        ("bladder infection", "nitrofurantoin"),
                                        ("pulmonary edema", "furosemide"),
                                        ("heart failure with peripheral edema", "furosemide")])
def test_named_bladder_and_oedema_problems_keep_their_treatment(idx, text, drug):
    assert drug in [c.name for c in idx.lookup(text).candidates], text


# ---- coronary stent -----------------------------------------------------------------------

def test_a_coronary_stent_gets_antiplatelets_and_the_current_ones_are_respected(idx):
    """2016 ACC/AHA DAPT focused update and 2023 AHA/ACC chronic coronary disease guideline:
    aspirin for life, a P2Y12 inhibitor with it for the DAPT period (clopidogrel for stable
    disease, ticagrelor after an acute coronary syndrome). Already on clopidogrel: no second
    P2Y12 inhibitor (duplicate rule), aspirin is the one left; on both: nothing new."""
    r = idx.lookup("Presence of coronary angioplasty implant and graft", "Z95.5")
    assert [m.name for m in r.info.concepts] == ["coronary stent"]
    assert {c.name for c in r.candidates} == {"aspirin", "clopidogrel", "ticagrelor"}
    assert all("2016 ACC/AHA focused update" in d for d in _rows(r).values())
    dx = Diagnosis(text="Presence of coronary angioplasty implant and graft", code="Z95.5")
    on_clopidogrel = shortlist(Patient(age=64, sex="male", current_medications=["clopidogrel"]),
                               dx, offer=None)
    assert list(on_clopidogrel.names) == ["aspirin"]
    assert "ticagrelor" in {e.drug for e in on_clopidogrel.excluded}
    on_both = shortlist(Patient(age=64, sex="male",
                                current_medications=["aspirin", "clopidogrel"]), dx, offer=None)
    assert not on_both.names
    on_apixaban = shortlist(Patient(age=72, sex="female", current_medications=["apixaban"]),
                            dx, offer=None)
    assert "aspirin" not in on_apixaban.names and on_apixaban.names[0] == "clopidogrel"


def test_an_infarction_treated_with_pci_stays_the_infarction(idx):
    """Found replaying the hospital set: 'STEMI, in hospital after primary PCI' is the acute
    myocardial infarction (heparin with the antiplatelets), not the stent concept."""
    r = idx.lookup("STEMI, hospital after primary PCI")
    assert [m.name for m in r.info.concepts] == ["myocardial infarction"]


def test_unexplained_diarrhoea_gets_loperamide_not_opioids_or_restricted_drugs():
    """IDSA 2017 and ACG 2016: oral rehydration, loperamide for an adult's watery diarrhoea, no
    empirical antibiotic; alosetron (Lotronex label: severe IBS-D in women) and rifaximin
    (travellers' diarrhoea, IBS-D) are not for it, nor is morphine."""
    sl = shortlist(Patient(age=45, sex="female"),
                   Diagnosis(text="Diarrhea, unspecified", code="R19.7"), offer=None)
    assert sl.names[0] == "loperamide"
    held = {e.drug for e in sl.excluded if e.reason.startswith("not for")}
    assert {"alosetron", "rifaximin", "morphine", "ciprofloxacin"} <= held


def test_beta_blockers_are_not_offered_to_prevent_a_heart_attack(idx):
    """2023 AHA/ACC chronic coronary disease guideline: beta-blockers for angina or reduced
    ejection fraction; they prevent no first infarction."""
    r = idx.lookup("Prevent heart attack/myocardial infarction", "I21.P")
    names = [c.name for c in r.candidates]
    assert "metoprolol" not in names and "carvedilol" not in names
    assert {"metoprolol", "carvedilol"} <= {h.name for h in r.held_back
                                            if h.reason.startswith("not for")}


def test_osteoarthritis_offers_nonopioids_and_holds_opioids_back(idx):
    """ACR/AF 2019: tramadol only conditionally, other opioids conditionally against; CDC 2022:
    nonopioid therapy first. At 74 on an ACE inhibitor and a thiazide the NSAIDs are out
    (triple whammy), so duloxetine and acetaminophen are offered, not tramadol."""
    r = idx.lookup("knee osteoarthritis")
    assert "tramadol" not in [c.name for c in r.candidates]
    assert {"tramadol", "acetaminophen; hydrocodone"} <= {h.name for h in r.held_back
                                                         if h.reason.startswith("not for")}
    sl = shortlist(Patient(age=74, sex="male",
                           current_medications=["lisinopril", "hydrochlorothiazide"]),
                   Diagnosis(text="knee osteoarthritis"), offer=None)
    assert set(sl.names) == {"duloxetine", "acetaminophen"}


def test_psoriasis_gets_topical_corticosteroids_and_no_systemic_ones(idx):
    """AAD-NPF 2021 topical therapy (potent topical corticosteroids first) and AAD-NPF 2020
    systemic nonbiologic therapy (systemic corticosteroids not recommended: withdrawal flares)."""
    r = idx.lookup("Psoriasis", "L40")
    assert [m.name for m in r.info.concepts] == ["psoriasis"]
    assert {c.name for c in r.candidates[:2]} == {"clobetasol", "betamethasone"}
    held = {h.name for h in r.held_back if h.reason.startswith("not for")}
    assert {"prednisone", "methylprednisolone"} <= held


def test_autoimmune_thyroiditis_reads_as_hypothyroidism_not_label_relics(idx):
    """ATA 2014: levothyroxine for the hypothyroidism of Hashimoto thyroiditis; DrugCentral's
    calcium dobesilate, exifone and glucocorticoid rows for 'thyroiditis' are not treatment."""
    r = idx.lookup("Autoimmune thyroiditis", "E06.3")
    assert [m.name for m in r.info.concepts] == ["hypothyroidism"]
    names = [c.name for c in r.candidates]
    assert names[0] == "levothyroxine"
    assert not {"calcium dobesilate", "exifone", "prednisone"} & set(names)


def test_hypokalaemia_gets_potassium_chloride_not_magnesium_or_citrate(idx):
    """Potassium chloride label and KDIGO 2020: chloride with the potassium for the usual
    (diuretic) hypokalaemia; magnesium is its own treatment when low, not a potassium drug."""
    r = idx.lookup("Hypokalemia", "E87.6")
    assert [c.name for c in r.candidates][:1] == ["potassium chloride"]
    held = {h.name for h in r.held_back if h.reason.startswith("not for")}
    assert {"magnesium sulfate", "potassium citrate"} <= held


def test_erectile_dysfunction_on_a_nitrate_gets_alprostadil():
    """AUA 2018: PDE5 inhibitors first; with a nitrate they are contraindicated (their labels),
    and intracavernosal or intraurethral alprostadil is the option left."""
    sl = shortlist(Patient(age=62, sex="male", allergies=[],
                           current_medications=["isosorbide mononitrate"]),
                   Diagnosis(text="erectile dysfunction"), offer=None)
    assert sl.names == ("alprostadil",)
    assert {"sildenafil", "tadalafil"} <= {e.drug for e in sl.excluded}
