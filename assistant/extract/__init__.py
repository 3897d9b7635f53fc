"""Deterministic extraction of patient fields and the diagnosis from one user turn.

The served base model (135M parameters) cannot extract fields reliably, so this is regex plus
the guardrails drug lexicon, biased toward safety: a drug mentioned outside an allergy clause is
taken as a current medication (more duplicate checks, never fewer), and everything understood is
echoed back so the clinician can correct it.

Order of work on a turn (extractor.Extractor.extract; each step takes the characters it
explains from the span mask in `text`, so later steps never read them):

 0. Korean is rewritten into the same shorthand (korean.py); misspelt cue words are corrected
    (typos.py); a "Correction:" prefix is noted (lists are then replaced); chart section
    headers ("Assessment:", "PMH:", "HPI:") become labels (context.py); a "Patient:" header
    is skipped
 1. labels       "Age: 60 years", "Allergies: none", "Diagnosis: ..."          labels.py
 2. unknowns     "allergies unknown", "age not recorded", "pregnancy unclear"   labels.py
 3. kidney       "eGFR 25", "CrCl 28", "CKD stage 4", "on dialysis", "breastfeeding" kidney.py
 3. demographics pregnancy, age, weight: "20 weeks pregnant", "34 yo", "70 kg"  demographics.py
 4. context      "Mrs Smith", lab values, person words ("patient", "child")     demographics.py
 5. requests     "recommend X", "can I give X" (never a diagnosis or a medication) diagnosis.py
                 the patient's "requesting X", "asks about X" (a note; a refill is taken)
 6. allergies    "allergic to sulfa", "NKDA", "anaphylaxis after amoxicillin"   allergies.py
 7. medications  "not on X", "stopped X" (a note, never taken), "on X for Y"     medications.py
                 (longest drug match; Y a comorbidity), "on levothyroxine", "takes
                 metformin 500 mg bid", "no meds"; the condition just before the cue
                 ("AF on apixaban") is marked background
 8. sex words    "woman", "he"                                                   demographics.py
 9. questions    "what should I give?"                                          diagnosis.py
10. other drug mentions (lexicon)  -> current medications                       medications.py
11. what remains, split into clauses, read with their context (negated, past,  diagnosis.py
    family, hypothetical, "now"/"new"/"c/o" focus; context.py) -> the diagnosis
    and the comorbidities; background by place ("AF on apixaban", "PMH HTN,
    CKD") is the question only when nothing else is
12. a lone number among other facts is the age; pregnant implies female

A field stated as unknown is recorded in `unknown`, which counts as answered. A value no patient
can have ("Age: 200", "600 kg") is not recorded; a note says so and the field stays open.
Word lists live in assistant/data/extract_vocabulary.json and extract_context.json. The diagnosis
gets an ICD-10-CM code where one fits (coding.py; dialogue.Consultation.diagnosis).
"""

from assistant.extract.demographics import parse_age, parse_pregnant, parse_sex, parse_weight
from assistant.extract.extractor import Extractor
from assistant.extract.text import DrugFinder, DrugMention, Findings

__all__ = ["Extractor", "Findings", "DrugFinder", "DrugMention",
           "parse_age", "parse_pregnant", "parse_sex", "parse_weight"]
