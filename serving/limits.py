"""Bounded work for the assistant API, as pure ASGI pieces and one admission gate.

    BodyLimit(app, max_bytes)   413 once the bytes actually read pass the limit (chunked bodies
                                included; Content-Length is only an early hint)
    Gate(concurrent, queue)     at most `concurrent` turns run, `queue` more wait; beyond that
                                Overloaded (429 + Retry-After) at once, never an unbounded wait
    run_guarded(request, make, deadline_s)
                                runs one turn under the gate with a server-side deadline and
                                cancels it (and so its engine request) when the client leaves
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Awaitable, Callable, TypeVar

from fastapi import Request

from rxassist.errors import RxAssistError

T = TypeVar("T")


class Overloaded(RxAssistError):
    status_code = 429
    error_type = "rate_limit_error"
    exit_code = 1

    def __init__(self, message: str, retry_after_s: int):
        super().__init__(message, code="server_busy")
        self.retry_after_s = retry_after_s


class DeadlineExceeded(RxAssistError):
    status_code = 504
    error_type = "timeout_error"
    exit_code = 1


class ClientGone(Exception):
    """The caller disconnected; nobody is left to answer."""


def _too_large(max_bytes: int) -> bytes:
    return json.dumps({"error": {"message": f"request body is larger than {max_bytes} bytes",
                                 "type": "invalid_request_error", "param": None,
                                 "code": "request_too_large"}}).encode()


class BodyLimit:
    def __init__(self, app, max_bytes: int, skip_prefixes: tuple[str, ...] = ()):
        self.app, self.max_bytes, self.skip = app, max_bytes, skip_prefixes

    async def _reject(self, send) -> None:
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": _too_large(self.max_bytes)})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path", "").startswith(self.skip):
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                return await self._reject(send)
        # Read the whole body here (it is small by definition) and count what arrives.
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_bytes:
                return await self._reject(send)
            chunks.append(body)
            if not message.get("more_body"):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class Gate:
    def __init__(self, concurrent: int, queue: int, retry_after_s: int = 5):
        if concurrent < 1 or queue < 0:
            raise ValueError("concurrent must be >= 1 and queue >= 0")
        self.concurrent, self.queue, self.retry_after_s = concurrent, queue, retry_after_s
        self._slots: asyncio.Semaphore | None = None
        self._loop = None
        self._admitted = 0    # running + waiting

    def _semaphore(self) -> asyncio.Semaphore:
        # Bound to the event loop that first waits on it: one per loop (tests run several).
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._slots, self._loop = asyncio.Semaphore(self.concurrent), loop
        return self._slots

    @contextlib.asynccontextmanager
    async def enter(self):
        if self._admitted >= self.concurrent + self.queue:
            raise Overloaded(f"the server is busy ({self.concurrent} requests running, "
                             f"{self.queue} waiting); retry after {self.retry_after_s} s",
                             self.retry_after_s)
        self._admitted += 1
        try:
            async with self._semaphore():
                yield
        finally:
            self._admitted -= 1


async def _until_disconnected(request: Request, poll_s: float = 0.25) -> None:
    while not await request.is_disconnected():
        await asyncio.sleep(poll_s)


async def run_guarded(request: Request, gate: Gate, make: Callable[[], Awaitable[T]],
                      deadline_s: float) -> T:
    start = time.monotonic()
    async with gate.enter():
        remaining = deadline_s - (time.monotonic() - start)
        work = asyncio.ensure_future(make())
        gone = asyncio.ensure_future(_until_disconnected(request))
        try:
            done, _ = await asyncio.wait({work, gone}, timeout=max(remaining, 0),
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (work, gone):
                if not t.done():
                    t.cancel()   # cancelling the turn closes its engine request
        if work in done:
            return work.result()
        if gone in done:
            raise ClientGone()
        raise DeadlineExceeded(f"no answer within the server's deadline of {deadline_s:g} s; "
                               "try again later or with a shorter history", code="deadline")
