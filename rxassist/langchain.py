"""rxassist as a LangChain tool: a prescribing step an agent can call but cannot bypass.

    consultation_tool(assistant)      -> StructuredTool "rxassist_consultation"
    consultation_runnable(assistant)  -> Runnable: ConsultationInput -> ConsultationOutput

Both run the real assistant pipeline (assistant.core.Assistant.respond): the consultation is read,
the candidates come from the evidence index, every drug is checked by the guardrails, and
critical flags exclude drugs before the model chooses. The tool has no argument that skips a
step: its only inputs are the consultation text, earlier turns and the model id.

Called by an agent with a tool call, the tool answers a ToolMessage whose content is the answer
a clinician reads and whose `artifact` is the typed ConsultationResult (recommendations, flags,
missing fields). Called directly (`tool.invoke({"text": ...})`) it answers the text only; use
`consultation_runnable` for the typed output. Bad input (empty text, too long, an unknown model
id) becomes a ToolException, which the tool reports to the agent as an error message.

Like rxassist.cli, this module sits at the top of the layers: it imports the assistant lazily.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.runnables import RunnableLambda
from langchain_core.tools import StructuredTool, ToolException
from pydantic import BaseModel, ConfigDict, Field

from rxassist.errors import RxAssistError
from recommend.schemas import ConsultationResult

if TYPE_CHECKING:
    from assistant import Assistant

TOOL_NAME = "rxassist_consultation"
TOOL_DESCRIPTION = (
    "Recommend drugs for one patient from a consultation in plain words (English or Korean): "
    "age, sex, pregnancy, allergies, current medications and the diagnosis. Every suggested "
    "drug is checked for duplicates, allergies, contraindications and interactions; the answer "
    "lists flags and what is still needed. Pass earlier turns in `history` to continue a "
    "consultation. The clinician decides.")


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class ConsultationInput(BaseModel):
    """One consultation turn: the new text, and the turns before it (oldest first)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="the consultation or the clinician's answer "
                                                "to the assistant's last question")
    history: list[Turn] = Field(default_factory=list,
                                description="earlier turns of this consultation, oldest first")
    model: str = Field("rxassist", description="assistant model id (rxassist, rxassist:base, "
                                               "rxassist:<adapter>)")


class ConsultationOutput(BaseModel):
    """What the assistant answered: the text a clinician reads and the typed result."""

    answer: str
    result: ConsultationResult

    @property
    def critical_flags(self) -> list:
        return [f for f in self.result.flags if f.severity == "critical"]


def _messages(inp: ConsultationInput) -> list[dict]:
    return [t.model_dump() for t in inp.history] + [{"role": "user", "content": inp.text}]


async def _aconsult(assistant: "Assistant", inp: ConsultationInput) -> ConsultationOutput:
    try:
        turn = await assistant.respond(_messages(inp), model=inp.model)
    except RxAssistError as e:
        # The agent reads the message and can fix its call; a server-side failure included.
        raise ToolException(f"{type(e).__name__}: {e}") from e
    return ConsultationOutput(answer=turn.content, result=turn.result)


def _run(coro) -> Any:
    """Run a coroutine from sync code, also when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _as_input(value: Any) -> ConsultationInput:
    if isinstance(value, ConsultationInput):
        return value
    if isinstance(value, str):
        return ConsultationInput(text=value)
    return ConsultationInput.model_validate(value)


def _assistant(assistant: "Assistant | None", config: dict[str, Any]) -> "Assistant":
    if assistant is not None:
        if config:
            raise TypeError("pass either an Assistant or AssistantConfig keywords, not both")
        return assistant
    from assistant import Assistant, AssistantConfig
    return Assistant(AssistantConfig(**config))


def consultation_runnable(assistant: "Assistant | None" = None, **config: Any) -> RunnableLambda:
    """A Runnable from ConsultationInput (or a dict, or a plain string) to ConsultationOutput.

    `assistant`: an assistant.Assistant; or AssistantConfig keywords (model_base_url,
    base_model, ...) to build one."""
    a = _assistant(assistant, config)

    async def ainvoke(value: Any) -> ConsultationOutput:
        return await _aconsult(a, _as_input(value))

    def invoke(value: Any) -> ConsultationOutput:
        return _run(_aconsult(a, _as_input(value)))

    return RunnableLambda(invoke, afunc=ainvoke, name=TOOL_NAME).with_types(
        input_type=ConsultationInput, output_type=ConsultationOutput)


def consultation_tool(assistant: "Assistant | None" = None, *, name: str = TOOL_NAME,
                      **config: Any) -> StructuredTool:
    """A StructuredTool with typed arguments (ConsultationInput); its artifact is the
    ConsultationResult. Arguments as for consultation_runnable."""
    a = _assistant(assistant, config)

    async def acall(text: str, history: list[Turn] | None = None,
                    model: str = "rxassist") -> tuple[str, ConsultationResult]:
        out = await _aconsult(a, ConsultationInput(text=text, history=history or [],
                                                   model=model))
        return out.answer, out.result

    def call(text: str, history: list[Turn] | None = None,
             model: str = "rxassist") -> tuple[str, ConsultationResult]:
        return _run(acall(text, history, model))

    return StructuredTool.from_function(
        func=call, coroutine=acall, name=name, description=TOOL_DESCRIPTION,
        args_schema=ConsultationInput, response_format="content_and_artifact",
        handle_tool_error=True)


__all__ = ["ConsultationInput", "ConsultationOutput", "Turn", "consultation_tool",
           "consultation_runnable", "TOOL_NAME"]
