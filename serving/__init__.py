"""Serving: the vLLM engine as a supervised child, the OpenAI-compatible assistant API and the
Gradio chat mounted beside it. `rxassist serve` (serving.cli) wires them together."""
