"""The assistant: a stateless conversation layer that gathers the patient and recommends.

Public API (what serving/ calls):

    AssistantConfig      where the model is served, which adapters exist
    Assistant            .model_ids(), .set_adapters(), async .respond(messages, model)
    AssistantTurn        content (what the clinician reads) + rxassist (structured result)
    build_ui             the Gradio chat (assistant.ui, imported lazily: gradio is heavy)
"""

__all__ = ["AssistantConfig", "Assistant", "AssistantTurn", "build_ui"]


# Imported lazily so that light modules (assistant.policy, assistant.extract) can be used
# without pulling in the conversation engine (guardrails, candidate index, openai) or Gradio.
def __getattr__(name: str):
    if name == "AssistantConfig":
        from assistant.config import AssistantConfig
        return AssistantConfig
    if name in ("Assistant", "AssistantTurn"):
        from assistant import core
        return getattr(core, name)
    if name == "build_ui":
        from assistant.ui import build_ui
        return build_ui
    raise AttributeError(name)
