"""The recommendation layer: from a patient and a diagnosis to ranked, checked drugs.

Above the core (`rxassist`) and the guardrails; below the assistant, eval and finetune, which
all recommend through it, so training, evaluation and serving ask the model the same thing.

    recommend.candidates    candidate drugs per diagnosis from open evidence
    recommend.shortlist     candidates minus what the guardrails rule out for this patient
    recommend.prompt        the one prompt format and the answer parser
    recommend.quoting       free text as one-line data values before it enters the prompt
    recommend.schemas       the answer schema and the typed result (ConsultationResult)
    recommend.model_client  every request to the served model
    recommend.pipeline      recommend() / arecommend(): the steps above, in order
"""
