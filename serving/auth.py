"""API keys: who may call the assistant API and the model API.

    parse_keys(text)              "k1,k2" -> ["k1", "k2"] (several keys, so one can be rotated)
    KeyCheck(keys)                constant-time membership test on SHA-256 digests
    BearerAuth(app, keys, open_)  ASGI middleware: 401 with an OpenAI error object unless
                                  `Authorization: Bearer <key>`; `open_` path prefixes pass
    model_api_key(given)          the engine's own key: the one given, or a fresh one per start
    is_loopback(host)             whether binding `host` keeps a port on this machine only

The model engine (vLLM) checks its key itself (VLLM_API_KEY); only `rxassist serve` and whoever
reads the 0600 key file under RXASSIST_HOME hold it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import secrets
from pathlib import Path

MIN_KEY_CHARS = 16


def parse_keys(text: str | None) -> list[str]:
    keys = [k.strip() for k in (text or "").split(",") if k.strip()]
    for k in keys:
        if len(k) < MIN_KEY_CHARS or any(c.isspace() or not c.isprintable() for c in k):
            raise ValueError(f"an API key must be at least {MIN_KEY_CHARS} printable characters "
                             "without spaces (generate one: python -c \"import secrets; "
                             "print(secrets.token_urlsafe(32))\")")
    return keys


def model_api_key(given: str | None) -> str:
    return given or secrets.token_urlsafe(32)


def write_key_file(path: Path, key: str) -> Path:
    """Owner-only (0600) from the first byte: the file is created with that mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    return path


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class KeyCheck:
    def __init__(self, keys: list[str]):
        self._digests = [hashlib.sha256(k.encode()).digest() for k in keys]

    def __bool__(self) -> bool:
        return bool(self._digests)

    def ok(self, key: str | None) -> bool:
        if not key:
            return False
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        match = False
        for d in self._digests:  # no early exit: timing says nothing about which key
            match |= secrets.compare_digest(d, digest)
        return match

    def bearer_ok(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        return scheme.lower() == "bearer" and self.ok(token.strip())


ASSISTANT_KEY_HINT = "the key given to `rxassist serve --api-key` or RXASSIST_API_KEY"
MODEL_KEY_HINT = ("the model API key: --model-api-key, RXASSIST_MODEL_API_KEY, or the one in "
                  "$RXASSIST_HOME/run/model-api-key-PORT")


def unauthorized_body(hint: str) -> bytes:
    return json.dumps({"error": {
        "message": f"missing or invalid API key: send 'Authorization: Bearer <key>' ({hint})",
        "type": "authentication_error", "param": None, "code": "invalid_api_key"}}).encode()


class BearerAuth:
    """Pure ASGI, so it also guards streaming responses and runs before the body is read."""

    def __init__(self, app, keys: KeyCheck, open_prefixes: tuple[str, ...] = (),
                 hint: str = ASSISTANT_KEY_HINT):
        self.app, self.keys, self.open_prefixes = app, keys, open_prefixes
        self.body = unauthorized_body(hint)

    def _open(self, path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.open_prefixes)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.keys or scope.get("method") == "OPTIONS" \
                or self._open(scope.get("path", "")):
            return await self.app(scope, receive, send)
        header = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value.decode("latin-1")
        if self.keys.bearer_ok(header):
            return await self.app(scope, receive, send)
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"),
                                (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": self.body})


def check_keys(args) -> list[str]:
    """The assistant API keys; refuses a reachable server without one (exit 2, saying why).
    Shared by `rxassist serve` and `serve --model-url` (serving.cli and serving.remote_serve)."""
    from rxassist.errors import ConfigError

    try:
        keys = parse_keys(args.api_key)
        if args.model_api_key:
            parse_keys(args.model_api_key)
    except ValueError as e:
        raise ConfigError(f"--api-key/--model-api-key: {e}") from None
    if not keys and not is_loopback(args.host):
        raise ConfigError(f"--host {args.host} makes the assistant API and the chat UI (patient "
                          "data) reachable from other machines, so a key is required: pass "
                          "--api-key KEY or set RXASSIST_API_KEY (and put TLS in front, see "
                          "docs/deploying.md)")
    if not is_loopback(args.model_host) and not args.model_api_key:
        raise ConfigError(f"--model-host {args.model_host} exposes the model API; give it a key "
                          "its clients can know: --model-api-key KEY or RXASSIST_MODEL_API_KEY")
    return keys
