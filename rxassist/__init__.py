"""rxassist: an LLM-based prescription assistant for clinicians.

Shared core used by every layer: case files (`cases`), the one prompt format (`prompt`), the one
patient-to-text renderer (`patient_text`), typed results (`schemas`), the model client
(`model_client`), the review CSV (`review_format`), paths and model resolution (`paths`), the
error hierarchy (`errors`), adapter names and LoRA ranks (`adapters`), flag severities
(`severity`) and the CLI (`cli`).
"""

__version__ = "0.1.0"
