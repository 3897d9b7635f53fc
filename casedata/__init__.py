"""Case files from real records: `rxassist data build`.

    casedata.nhanes / casedata.synthea   raw exports -> cases, one per patient and reason
    casedata.splits                      deterministic train/val/test split by patient
    casedata.build                       sources -> split, validated case files + data card
    casedata.datacard                    what a case file holds
"""
