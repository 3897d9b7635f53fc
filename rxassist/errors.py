"""The error hierarchy, drawn once.

    RxAssistError                 base; carries an OpenAI-style type/param/code
    ├── InvalidInput              bad data from a user or client      -> HTTP 400, CLI exit 2
    ├── NotFound                  unknown model/adapter/file name     -> HTTP 404, CLI exit 2
    ├── ModelUnavailable          the engine or an upstream API failed -> HTTP 502/503, CLI exit 1
    └── ConfigError               bad option or missing prerequisite  -> CLI exit 2

Code deep inside raises these; the boundaries (serving.errors for HTTP, rxassist.cli for the
command line) translate them, each in one place.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError


class RxAssistError(Exception):
    status_code = 500
    error_type = "internal_error"
    exit_code = 1

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    def to_openai(self) -> dict:
        return {"error": {"message": self.message, "type": self.error_type,
                          "param": self.param, "code": self.code}}


# Each kind is only its (HTTP status, OpenAI error type, CLI exit code), as drawn above.
class InvalidInput(RxAssistError):
    status_code, error_type, exit_code = 400, "invalid_request_error", 2


class NotFound(RxAssistError):
    status_code, error_type, exit_code = 404, "not_found_error", 2


class ModelUnavailable(RxAssistError):
    status_code, error_type, exit_code = 503, "model_unavailable", 1


class ConfigError(RxAssistError):
    status_code, error_type, exit_code = 400, "invalid_request_error", 2


def describe_validation(errors: list[dict], *, prefix: str = "", option: bool = False,
                        first_only: bool = False, whole: str = "input") -> tuple[str, str | None]:
    """Pydantic errors (`ValidationError.errors()`, FastAPI's too) as one readable message naming
    each field, and the first field's name as the OpenAI-style `param`.

    `prefix` goes before every location ("patient."); `option` names CLI options ("--max-steps").
    """
    parts: list[str] = []
    param: str | None = None
    for err in errors[:1] if first_only else errors:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        if param is None and loc:
            param = ".".join(loc)
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if option:
            name = "--" + "-".join(loc).replace("_", "-") if loc else whole
        else:
            name = prefix + ".".join(loc) if loc else whole
        parts.append(f"{name}: {msg}")
    return ("; ".join(parts) or f"invalid {whole}"), param


def config_error(e, *, option: bool = False, first_only: bool = True,
                 whole: str = "config") -> ConfigError:
    """A Pydantic ValidationError on a configuration as the ConfigError the CLI and the API
    report (the one path from one to the other), naming the field or `--option`."""
    message, param = describe_validation(e.errors(), option=option, first_only=first_only,
                                         whole=whole)
    return ConfigError(message, param=param)


Config = TypeVar("Config")


def validated(config: type[Config], *, option: bool = False, first_only: bool = True,
              whole: str = "config", **values: Any) -> Config:
    """`config(**values)`, its ValidationError raised as `config_error` says: every options
    model of the CLIs and the eval targets is built through here."""
    try:
        return config(**values)
    except ValidationError as e:
        raise config_error(e, option=option, first_only=first_only, whole=whole) from None
