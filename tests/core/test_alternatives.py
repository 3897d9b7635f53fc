"""Ranked options are checked one by one against the patient, never against each other."""

from __future__ import annotations

import guardrails
from recommend.alternatives import check_alternatives

NSAIDS = ["ibuprofen", "diclofenac", "naproxen"]
ON_WARFARIN = {"age": 79, "sex": "female", "allergies": [],
               "current_medications": ["warfarin", "lisinopril"]}


def test_no_flag_names_two_alternatives():
    together = guardrails.check(NSAIDS, ON_WARFARIN)
    # Checked as a regimen, the three NSAIDs flag each other (the screen this replaces).
    assert [f for f in together.flags if len(set(f.drugs) & set(NSAIDS)) > 1]
    alone = check_alternatives(NSAIDS, ON_WARFARIN)
    assert not [f for f in alone.flags if len(set(f.drugs) & set(NSAIDS)) > 1]
    assert [d.input for d in alone.drugs] == NSAIDS


def test_each_alternative_keeps_its_flags_against_the_patient():
    flags = check_alternatives(NSAIDS, ON_WARFARIN).flags
    for drug in NSAIDS:
        with_warfarin = [f for f in flags if f.kind == "interaction"
                         and set(f.drugs) == {drug, "warfarin"}]
        assert len(with_warfarin) == 1, drug


def test_an_allergy_is_still_flagged_per_option():
    flags = check_alternatives(["amoxicillin", "azithromycin"],
                               {"allergies": ["penicillin"]}).flags
    assert [(f.kind, f.severity, f.drugs) for f in flags if f.kind == "allergy"] == [
        ("allergy", "critical", ["amoxicillin"])]


def test_a_flag_found_for_every_option_is_kept_once():
    # An unrecognised current medication is reported with each option, listed once.
    patient = {"current_medications": ["qqzzxx"]}
    flags = check_alternatives(["amoxicillin", "azithromycin"], patient).flags
    assert [f.drugs for f in flags if f.kind == "unknown_drug"] == [["qqzzxx"]]
