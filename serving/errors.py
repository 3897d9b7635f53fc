"""Every exception the assistant API can raise becomes one error shape, here and only here:
{"error": {"message", "type", "param", "code"}} with a 4xx/5xx status.

Unexpected exceptions are logged by type and code location only: their messages (and a
traceback's locals or source lines) can carry patient text from the request. `SafeErrors` wraps
the whole ASGI app because Starlette re-raises after its handler ran, and uvicorn would then
print the full traceback, message included.
"""

from __future__ import annotations

import logging
import os
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from rxassist.errors import ModelUnavailable, RxAssistError, describe_validation
from serving.limits import ClientGone, Overloaded

log = logging.getLogger("rxassist.serving")
MODEL_RETRY_AFTER_S = 10
MAX_ECHO_CHARS = 200


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def where(exc: BaseException) -> str:
    """'file.py:123 in func' of the innermost frame: enough to find the bug, nothing of the data."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown location"
    f = frames[-1]
    return f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}"


def log_unexpected(exc: BaseException) -> None:
    log.error("internal error: %s at %s", type(exc).__name__, where(exc))


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if errors and errors[0].get("type") == "json_invalid":
        return "request body is not valid JSON", None
    message, param = describe_validation(errors, first_only=True, whole="request")
    message = message.removeprefix("request: ") if param is None else message
    # Pydantic's message never quotes the input; cap it anyway (it may name a long key).
    return message[:MAX_ECHO_CHARS], (param[:MAX_ECHO_CHARS] if param else None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RxAssistError)
    async def _rx(_: Request, exc: RxAssistError):
        headers = {}
        if isinstance(exc, Overloaded):
            headers["Retry-After"] = str(exc.retry_after_s)
        elif isinstance(exc, ModelUnavailable):
            headers["Retry-After"] = str(MODEL_RETRY_AFTER_S)
        return JSONResponse(exc.to_openai(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(ClientGone)
    async def _gone(_: Request, __: ClientGone):
        return Response(status_code=499)  # nobody reads it; nginx's "client closed request"

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        message, param = _validation_message(exc)
        return JSONResponse(error_body(message, "invalid_request_error", param), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        type_ = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return JSONResponse(error_body(str(exc.detail)[:MAX_ECHO_CHARS], type_),
                            status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        # Logged once, by SafeErrors, which sees the re-raise that always follows.
        return JSONResponse(error_body("internal error; the server keeps running", "internal_error"),
                            status_code=500)


class SafeErrors:
    """Outermost ASGI layer: logs (type and place) and swallows what Starlette re-raises after
    `_unexpected` answered, and answers 500 itself for anything raised before a response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # the boundary: nothing may reach uvicorn's traceback printer
            log_unexpected(exc)
            if scope["type"] != "http" or started:
                return  # already answered (by `_unexpected`), or mid-stream: nothing to send
            body = JSONResponse(error_body("internal error; the server keeps running",
                                           "internal_error"), status_code=500)
            await body(scope, receive, send)
