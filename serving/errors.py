"""Every exception the assistant API can raise becomes one error shape, here and only here:
{"error": {"message", "type", "param", "code"}} with a 4xx/5xx status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rxassist.errors import RxAssistError, describe_validation

log = logging.getLogger("rxassist.serving")


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if errors and errors[0].get("type") == "json_invalid":
        return "request body is not valid JSON", None
    message, param = describe_validation(errors, first_only=True, whole="request")
    return (message.removeprefix("request: ") if param is None else message), param


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RxAssistError)
    async def _rx(_: Request, exc: RxAssistError):
        return JSONResponse(exc.to_openai(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        message, param = _validation_message(exc)
        return JSONResponse(error_body(message, "invalid_request_error", param), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        type_ = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return JSONResponse(error_body(str(exc.detail), type_), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        # The type only: the message could echo patient text from the request.
        log.error("internal error: %s", type(exc).__name__)
        return JSONResponse(error_body("internal error; the server keeps running", "internal_error"),
                            status_code=500)
