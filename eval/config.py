"""`rxassist eval run` options: one declaration of each, with its default (the CLI reads them
from here), stored as OUT/run.json and checked on resume."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from rxassist.errors import ConfigError, validated
from rxassist.paths import SHIPPED_DATA_DIR
from recommend.model_client import ModelSettings
from recommend.schemas import MAX_CANDIDATES, MAX_OFFERED, MODEL_MARGIN

# Targets that run in this process with no model API (eval.targets).
IN_PROCESS_TARGETS = ("evidence", "prior", "frequency")

DEFAULT_TRAIN_CASES = SHIPPED_DATA_DIR / "cases" / "nhanes-2013-2014-train.jsonl"


def _model_default(name: str):
    return ModelSettings.model_fields[name].default


class RunConfig(BaseModel):
    """Everything a run depends on; stored as OUT/run.json and checked on resume.

    The fields stay flat, as run.json has always held them; the target's and the judge's
    model settings are derived from them in one place (`endpoint`, `judge_endpoint`)."""

    model_config = ConfigDict(extra="forbid")

    cases: Path
    out: Path
    target: str = "model"
    base_url: str | None = None
    model: str | None = None
    limit: int | None = Field(None, ge=1)
    concurrency: int = Field(4, ge=1, le=256)
    # A batch replay waits longer and retries more than a clinician would, and leaves the
    # answer room: max_retries, timeout_s and max_tokens are eval's own; the rest the model
    # client's. The order of the fields is run.json's.
    max_retries: int = Field(6, ge=0)
    timeout_s: float = Field(300.0, gt=0)
    temperature: float = Field(_model_default("temperature"), ge=0)
    max_tokens: int = Field(512, ge=1)
    structured_output: bool = _model_default("structured_output")
    choice: str = Field(_model_default("choice"), pattern="^(enum|logprob)$")
    fill: bool = True
    offer: int = Field(MAX_OFFERED, ge=1, le=MAX_CANDIDATES)
    margin: float | None = Field(MODEL_MARGIN, ge=0)
    judge_base_url: str | None = None
    judge_model: str | None = None
    judge_prompt: Path | None = None
    judge_structured_output: bool = _model_default("structured_output")
    train_cases: Path = DEFAULT_TRAIN_CASES
    top_k: int = Field(3, ge=1)
    adapter: str | None = None
    rank: int | None = None
    step: int | None = None
    progress: bool = True
    api_key: str = Field(_model_default("api_key"), exclude=True, repr=False)
    judge_api_key: str = Field(_model_default("api_key"), exclude=True, repr=False)

    @classmethod
    def build(cls, **values) -> "RunConfig":
        """Validate, naming the `--option` on error (the CLI's runs and the suite's)."""
        return validated(cls, option=True, **values)

    @classmethod
    def from_args(cls, args, *, api_key: str, judge_api_key: str) -> "RunConfig":
        # getattr: `eval suite` and older callers' namespaces lack the model target's options.
        return cls.build(
            cases=args.cases, out=args.out, target=args.target, base_url=args.base_url,
            model=args.model, limit=args.limit, concurrency=args.concurrency,
            max_retries=args.max_retries, timeout_s=args.timeout,
            temperature=args.temperature, max_tokens=args.max_tokens,
            structured_output=not args.no_structured_output,
            choice=getattr(args, "choice", default("choice")),
            fill=not getattr(args, "no_fill", False),
            offer=getattr(args, "offer", default("offer")),
            margin=getattr(args, "margin", default("margin")),
            judge_base_url=args.judge_base_url, judge_model=args.judge_model,
            judge_prompt=args.judge_prompt,
            judge_structured_output=not args.no_judge_structured_output,
            train_cases=args.train_cases or DEFAULT_TRAIN_CASES, top_k=args.top_k,
            adapter=args.adapter, rank=args.rank, step=args.step,
            progress=not args.no_progress, api_key=api_key, judge_api_key=judge_api_key)

    def validate_combination(self) -> None:
        if self.max_retries < 0:
            raise ConfigError(f"--max-retries must be >= 0, got {self.max_retries}")
        if self.target not in IN_PROCESS_TARGETS and not (self.base_url and self.model):
            raise ConfigError(f"--target {self.target} needs --base-url and --model")
        if bool(self.judge_base_url) != bool(self.judge_model):
            raise ConfigError("give both --judge-base-url and --judge-model, or neither")

    def endpoint(self) -> ModelSettings:
        """The target's model API."""
        # Without structured output the enum is still named in the prompt and every answer
        # is validated against the shortlist; only the decoding is free.
        return validated(ModelSettings, option=True, base_url=self.base_url, model=self.model, api_key=self.api_key,
                         timeout_s=self.timeout_s, max_retries=self.max_retries,
                         temperature=self.temperature, max_tokens=min(self.max_tokens, 4096),
                         choice=self.choice, structured_output=self.structured_output)

    def judge_endpoint(self) -> ModelSettings:
        """The judge's model API: the run's timeout and retries, the model's other defaults."""
        return validated(ModelSettings, option=True, base_url=self.judge_base_url, model=self.judge_model,
                         api_key=self.judge_api_key, timeout_s=self.timeout_s,
                         max_retries=self.max_retries,
                         structured_output=self.judge_structured_output)

    @property
    def label(self) -> str:
        if self.target in IN_PROCESS_TARGETS:
            return f"{self.target}-top{self.top_k}"
        return self.model or self.target

    # Settings that change what a finished case means; a resumed run must keep them.
    # --limit and --base-url are not among them: raising the limit extends the same run, and
    # the same model may come back on another port.
    IDENTITY: ClassVar[tuple[str, ...]] = (
        "cases", "target", "model", "temperature", "max_tokens",
        "structured_output", "top_k", "train_cases", "choice", "fill", "offer", "margin")


def default(name: str):
    """The default of a RunConfig field, for the argparse option of the same name."""
    return RunConfig.model_fields[name].default
