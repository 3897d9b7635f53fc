"""rxassist: an LLM-based prescription assistant for clinicians.

The core every layer may import, and that imports nothing of the project above it: case files
(`cases`), the one patient-to-text renderer (`patient_text`), the review CSV (`review_format`),
paths and model resolution (`paths`), the embedded base model (`base_model`), the error
hierarchy (`errors`), adapter names and LoRA ranks (`adapters`) and flag severities
(`severity`). `cli` is the exception: the top of the stack, it dispatches to every layer's
commands. Layers, lowest first: rxassist < guardrails < recommend < assistant, eval, finetune,
casedata < serving < the CLI (tests/test_layers.py keeps it so).
"""

__version__ = "0.1.0"
