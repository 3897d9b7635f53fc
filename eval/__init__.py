"""An evaluation suite that replays cases from real records (inspect_ai's roles); the case
files themselves are built by `casedata` (`rxassist data build`).

    solver    eval.targets    model API | assistant API | frequency baseline (registry TARGETS)
    scorer    eval.metrics.score_case (matching via guardrails), eval.judges.LLMJudge,
              eval.reference.ReferenceJudge (offline, open data)
    metric    eval.metrics.METRICS, registered by name
    run       eval.runner.run_eval        `rxassist eval run` (resumable, concurrent, retries)
    report    eval.report                 `rxassist eval report`
    review    eval.review                 `rxassist eval review export|import`; the CSV format
                                          the assistant UI's per-drug feedback also uses

Errors: a bad option or file is a rxassist.errors.ConfigError / NotFound (CLI exit 2); an
endpoint that stays down after retries is ModelUnavailable (exit 1, the run resumes on rerun).
"""
