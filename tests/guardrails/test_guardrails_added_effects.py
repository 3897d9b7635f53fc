"""Pair rules from the fifth clinician review of held-out cases, each naming its source."""

from __future__ import annotations

import guardrails
from rxassist.cases import Diagnosis, Patient

_NAUSEA = Diagnosis(text="Nausea and vomiting", code="R11")


def _flags(drug, current, dx=_NAUSEA, age=41):
    return guardrails.check([drug], Patient(age=age, sex="female", current_medications=current),
                            diagnosis=dx).flags


def test_a_sedating_antihistamine_or_antidepressant_on_an_opioid_is_a_warning():
    """FDA 2016 opioid class labeling: other CNS depressants add respiratory depression."""
    for drug in ("diphenhydramine", "hydroxyzine", "mirtazapine", "trazodone"):
        flags = _flags(drug, ["acetaminophen; hydrocodone"])
        assert any(f.kind == "cns_depressant" and f.severity == "warning"
                   and "FDA Drug Safety Communication August 2016" in f.basis
                   for f in flags), drug
    assert not any(f.kind == "cns_depressant" for f in _flags("ondansetron",
                                                               ["acetaminophen; hydrocodone"]))
    # the reverse (an opioid started on mirtazapine) is the same risk
    assert any(f.kind == "cns_depressant" for f in _flags(
        "oxycodone", ["mirtazapine"], Diagnosis(text="Acute pain", code="R52")))


def test_an_h2_blocker_on_a_ppi_is_a_duplicate_but_a_switch_to_a_ppi_is_not():
    """ACG 2022 GERD guideline: optimise the PPI; a bedtime H2 blocker only for night-time
    breakthrough. Stepping up from an H2 blocker to a PPI is a switch, not a duplicate."""
    dx = Diagnosis(text="Peptic ulcer, site unspecified", code="K27")
    added = _flags("famotidine", ["dexlansoprazole"], dx, age=79)
    assert any(f.kind == "duplicate_class" and "ACG 2022" in f.basis for f in added)
    switched = _flags("omeprazole", ["famotidine"], dx, age=79)
    assert not any(f.kind == "duplicate_class" for f in switched)


def test_metoclopramide_with_a_strong_cyp2d6_inhibitor_raises_its_level():
    """Reglan label 2017: 5 mg four times daily at most with strong CYP2D6 inhibitors."""
    flags = _flags("metoclopramide", ["fluoxetine"])
    assert any(f.kind == "raised_level" and f.severity == "warning" and "Reglan" in f.basis
               for f in flags)
    assert not any(f.kind == "raised_level" for f in _flags("metoclopramide", ["sertraline"]))


def test_a_second_antithyroid_drug_is_a_duplicate():
    """2016 ATA hyperthyroidism guidelines: one thionamide at a time (propylthiouracil only
    replaces methimazole in early pregnancy, thyroid storm or a reaction)."""
    flags = _flags("propylthiouracil", ["methimazole"],
                   Diagnosis(text="Thyrotoxicosis, unspecified", code="E05.9"), age=38)
    assert any(f.kind == "duplicate_class" and "2016 ATA" in f.basis for f in flags)
