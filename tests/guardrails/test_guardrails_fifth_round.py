"""Rules from the fifth clinician review of held-out cases, each naming its source."""

from __future__ import annotations

import guardrails
from rxassist.cases import Diagnosis, Patient

MIGRAINE = Diagnosis(text="Migraine", code="G43.909")


def _flags(drug, patient, dx):
    return guardrails.check([drug], patient, diagnosis=dx).flags


def _kinds(flags, kind, severity=None):
    return [f for f in flags if f.kind == kind and (severity is None or f.severity == severity)]


def test_triptans_are_contraindicated_with_vascular_disease():
    """Triptan FDA labels: contraindicated with ischaemic heart disease, stroke or TIA,
    peripheral vascular disease and uncontrolled hypertension."""
    for comorbidity in ("coronary artery disease", "transient ischemic attack",
                        "peripheral vascular disease", "uncontrolled hypertension",
                        # as the reader writes "HTN (uncontrolled)"
                        "HTN (hypertension) (uncontrolled"):
        flags = _flags("rizatriptan", Patient(age=50, sex="female", comorbidities=[comorbidity]),
                       MIGRAINE)
        assert any("triptan FDA labels" in f.basis for f in _kinds(flags, "condition",
                                                                    "critical")), comorbidity
    # clopidogrel or a nitrate implies arterial disease
    on_nitrate = _flags("sumatriptan", Patient(age=55, sex="male",
                                               current_medications=["isosorbide mononitrate"]),
                        MIGRAINE)
    assert _kinds(on_nitrate, "condition", "critical")
    assert not _kinds(_flags("sumatriptan", Patient(age=50, sex="female",
                                                    comorbidities=["hypertension"]), MIGRAINE),
                      "condition")


def test_triptans_at_80_on_antihypertensives_are_a_warning():
    """Sumatriptan and rizatriptan labels: cardiovascular evaluation before use with several
    risk factors; few patients 65 and over studied."""
    older = Patient(age=80, sex="female", current_medications=["amlodipine", "lisinopril"])
    flags = _kinds(_flags("sumatriptan", older, MIGRAINE), "condition", "warning")
    assert any("geriatric use" in f.basis for f in flags)
    younger = Patient(age=50, sex="female", current_medications=["amlodipine", "lisinopril"])
    assert not _kinds(_flags("sumatriptan", younger, MIGRAINE), "condition")
    with_diabetes = Patient(age=70, sex="male", comorbidities=["type 2 diabetes"])
    assert _kinds(_flags("eletriptan", with_diabetes, MIGRAINE), "condition", "warning")


def test_metronidazole_on_lithium_raises_lithium():
    """Metronidazole (Flagyl) label: raised serum lithium and lithium toxicity."""
    dx = Diagnosis(text="Bacterial vaginosis", code="N76.0")
    flags = _flags("metronidazole", Patient(age=40, sex="female", current_medications=["lithium"]),
                   dx)
    assert any("Flagyl" in f.basis for f in _kinds(flags, "raised_level", "warning"))
    assert not _kinds(_flags("clindamycin", Patient(age=40, sex="female",
                                                    current_medications=["lithium"]), dx),
                      "raised_level")


def test_rizatriptan_with_propranolol_needs_the_5_mg_dose():
    """Maxalt label: propranolol raises rizatriptan levels; 5 mg, at most 15 mg a day."""
    flags = _flags("rizatriptan", Patient(age=35, sex="female",
                                          current_medications=["propranolol"]), MIGRAINE)
    assert any("5 mg" in f.message for f in _kinds(flags, "raised_level"))
    assert not _kinds(_flags("sumatriptan", Patient(age=35, sex="female",
                                                    current_medications=["propranolol"]),
                             MIGRAINE), "raised_level")


def test_colchicine_with_diltiazem_or_verapamil():
    """Colcrys label: dose reduction with moderate CYP3A4 inhibitors (diltiazem, verapamil)."""
    gout = Diagnosis(text="Gout", code="M10.9")
    for ccb in ("diltiazem", "verapamil"):
        flags = _flags("colchicine", Patient(age=70, sex="male", current_medications=[ccb]), gout)
        assert any("Colcrys" in f.basis for f in _kinds(flags, "raised_level", "warning")), ccb
    assert not _kinds(_flags("colchicine", Patient(age=70, sex="male",
                                                   current_medications=["amlodipine"]), gout),
                      "raised_level")


def test_trimethoprim_with_a_ras_blocker_or_spironolactone_is_hyperkalaemia():
    """Bactrim label; Antoniou 2010/2011, Fralick BMJ 2014: hyperkalaemia and sudden death."""
    uti = Diagnosis(text="Urinary tract infection", code="N39.0")
    for current in ("lisinopril", "losartan", "spironolactone"):
        flags = _flags("sulfamethoxazole/trimethoprim",
                       Patient(age=80, sex="male", current_medications=[current]), uti)
        assert any("Antoniou" in f.basis for f in _kinds(flags, "electrolyte")), current
    assert not _kinds(_flags("nitrofurantoin", Patient(age=80, sex="male",
                                                       current_medications=["lisinopril"]), uti),
                      "electrolyte")


def test_a_lama_beside_ipratropium_is_a_duplicate():
    """GOLD 2024; tiotropium and ipratropium labels: not with other anticholinergics."""
    copd = Diagnosis(text="Chronic obstructive pulmonary disease", code="J44.9")
    for new in ("tiotropium", "umeclidinium/vilanterol"):
        flags = _flags(new, Patient(age=70, sex="male", current_medications=["ipratropium"]),
                       copd)
        assert any("GOLD 2024" in f.basis for f in _kinds(flags, "duplicate_class")), new
    assert not _kinds(_flags("tiotropium", Patient(age=70, sex="male",
                                                   current_medications=["albuterol"]), copd),
                      "duplicate_class")


def test_a_second_hypnotic_on_trazodone():
    """AASM 2017 (single agents); zolpidem and suvorexant labels (additive CNS depression)."""
    insomnia = Diagnosis(text="Insomnia", code="G47.00")
    on_trazodone = Patient(age=50, sex="male", current_medications=["trazodone"])
    for new in ("zolpidem", "eszopiclone", "suvorexant", "temazepam"):
        assert any("AASM 2017" in f.basis for f in _kinds(
            _flags(new, on_trazodone, insomnia), "cns_depressant")), new
    assert not _kinds(_flags("ramelteon", on_trazodone, insomnia), "cns_depressant")


def test_a_thiazide_on_a_loop_diuretic_cites_beers_for_older_adults():
    """AGS Beers Criteria 2023: diuretics, use with caution at 65+ (hyponatraemia)."""
    flags = _flags("hydrochlorothiazide", Patient(age=80, sex="male",
                                                  current_medications=["furosemide"]),
                   Diagnosis(text="Hypertension", code="I10"))
    assert any("Beers" in f.basis and "65 or older" in f.message
               for f in _kinds(flags, "electrolyte", "warning"))


def test_a_non_selective_alpha_blocker_beside_a_nitrate():
    """Doxazosin, terazosin, prazosin labels (postural hypotension); Beers 2023."""
    bph = Diagnosis(text="Benign prostatic hyperplasia", code="N40.0")
    on_nitrate = Patient(age=80, sex="male", current_medications=["isosorbide mononitrate"])
    assert any("Cardura" in f.basis for f in _kinds(_flags("terazosin", on_nitrate, bph),
                                                   "hypotension", "warning"))
    assert not _kinds(_flags("tamsulosin", on_nitrate, bph), "hypotension")


def test_valproate_in_a_woman_who_could_become_pregnant_is_not_first_choice():
    """Valproate FDA boxed warning (FDA DSC May 2013): for women of childbearing potential only
    where other treatments failed; contraindicated for migraine prevention in pregnancy. Unlike
    the "confirm she is not pregnant" caution, this one holds whatever a test shows."""
    for pregnant in (None, False):
        flags = _flags("divalproex", Patient(age=30, sex="female", pregnant=pregnant), MIGRAINE)
        found = _kinds(flags, "contraindication", "warning")
        assert any("other treatments failed" in f.message for f in found), pregnant
        assert not any(guardrails.PREGNANCY_UNKNOWN in f.message for f in found)
    assert _kinds(_flags("valproic acid", Patient(age=30, sex="female", pregnant=True),
                         MIGRAINE), "contraindication", "critical")
    for patient in (Patient(age=60, sex="female"), Patient(age=30, sex="male")):
        assert not _kinds(_flags("valproic acid", patient, MIGRAINE), "contraindication")


def test_apixaban_dose_for_atrial_fibrillation_from_age_and_weight():
    """Eliquis label: 2.5 mg twice daily for AF with 2 of age 80+, weight 60 kg or less, serum
    creatinine 1.5 mg/dL or more. Creatinine is not in the patient model: with one criterion
    known to hold, an info flag asks for the rest."""
    af = Diagnosis(text="Atrial fibrillation", code="I48.91")

    def dose(patient, dx=af):
        return [f for f in _flags("apixaban", patient, dx) if f.kind == "dose"]

    both = dose(Patient(age=85, sex="female", weight_kg=55))
    assert [f.severity for f in both] == ["warning"] and "2.5 mg twice daily" in both[0].message
    assert [f.severity for f in dose(Patient(age=85, sex="female"))] == ["info"]
    assert [f.severity for f in dose(Patient(age=85, sex="female", weight_kg=80))] == ["info"]
    assert dose(Patient(age=70, sex="female", weight_kg=80)) == []
    assert dose(Patient(age=85, sex="female", weight_kg=55),
                Diagnosis(text="Deep vein thrombosis", code="I82.40")) == []


def test_an_apixaban_dose_note_does_not_demote_it():
    """A dose note is not a caution: apixaban stays offered for AF at 85 and 50 kg."""
    from recommend.shortlist import shortlist

    s = shortlist(Patient(age=85, sex="female", weight_kg=50),
                  Diagnosis(text="Atrial fibrillation", code="I48.91"))
    assert "apixaban" in [c.name for c in s.offered]
    assert any(f.kind == "dose" for f in s.warnings["apixaban"])


def test_tizanidine_is_a_warning_from_75():
    """Zanaflex label, geriatric use: reduced clearance; hypotension and sedation."""
    spasm = Diagnosis(text="Muscle spasm", code="M62.838")
    assert any("Zanaflex" in f.basis for f in _kinds(
        _flags("tizanidine", Patient(age=79, sex="female"), spasm), "older_adult", "warning"))
    assert not _kinds(_flags("tizanidine", Patient(age=70, sex="female"), spasm), "older_adult")


def test_cimetidine_at_65_and_h2_blockers_in_delirium():
    """Tagamet label (confusion in the elderly; CYP450 inhibition); Beers 2023: H2-receptor
    antagonists, avoid in delirium."""
    heartburn = Diagnosis(text="Heartburn", code="R12")
    assert any("Tagamet" in f.basis for f in _kinds(
        _flags("cimetidine", Patient(age=80, sex="female"), heartburn), "older_adult"))
    assert not _kinds(_flags("famotidine", Patient(age=80, sex="female"), heartburn),
                      "older_adult")
    assert not _kinds(_flags("cimetidine", Patient(age=50, sex="female"), heartburn),
                      "older_adult")
    delirious = Patient(age=80, sex="female", comorbidities=["delirium"])
    assert _kinds(_flags("famotidine", delirious, heartburn), "condition", "critical")


def test_tizanidine_with_fluvoxamine_is_contraindicated_either_way():
    """Zanaflex label: contraindicated with fluvoxamine or ciprofloxacin (CYP1A2)."""
    spasm = Diagnosis(text="Muscle spasm", code="M62.838")
    flags = _flags("tizanidine", Patient(age=40, sex="female", current_medications=["fluvoxamine"]),
                   spasm)
    assert any("Zanaflex" in f.basis for f in _kinds(flags, "raised_level", "critical"))
    reverse = _flags("fluvoxamine", Patient(age=40, sex="female",
                                            current_medications=["tizanidine"]),
                     Diagnosis(text="Obsessive-compulsive disorder", code="F42.2"))
    assert _kinds(reverse, "raised_level", "critical")
    assert not _kinds(_flags("tizanidine", Patient(age=40, sex="female",
                                                   current_medications=["sertraline"]), spasm),
                      "raised_level")


def test_triptans_whose_levels_other_drugs_raise():
    """Relpax label: not within 72 hours of potent CYP3A4 inhibitors; Axert label: 6.25 mg
    start with them; Zomig label: at most 5 mg a day with cimetidine."""
    def level(new, current):
        return _kinds(_flags(new, Patient(age=40, sex="female", current_medications=[current]),
                             MIGRAINE), "raised_level")

    assert [f.severity for f in level("eletriptan", "clarithromycin")] == ["critical"]
    assert [f.severity for f in level("almotriptan", "ketoconazole")] == ["warning"]
    assert [f.severity for f in level("zolmitriptan", "cimetidine")] == ["warning"]
    assert level("sumatriptan", "clarithromycin") == []
    # the antibiotic is not refused for a patient with eletriptan at home: hold the triptan
    assert not _kinds(_flags("clarithromycin", Patient(age=40, sex="female",
                                                       current_medications=["eletriptan"]),
                             Diagnosis(text="Pneumonia", code="J18.9")), "raised_level")


def test_propranolol_for_migraine_prevention_is_not_demoted_for_rizatriptan_at_home():
    """The Maxalt label lowers the rizatriptan dose; propranolol stays a first-line preventive
    (AAN/AHS 2012), so the pair is judged on a new rizatriptan only."""
    flags = _flags("propranolol", Patient(age=35, sex="female",
                                          current_medications=["rizatriptan"]), MIGRAINE)
    assert not _kinds(flags, "raised_level")
