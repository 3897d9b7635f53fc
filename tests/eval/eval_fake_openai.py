"""A FAKE OpenAI-compatible chat server for unit tests only (real HTTP on a loopback port).

It answers /v1/chat/completions deterministically from a table keyed by the diagnosis code
found in the last user message, so tests know exactly what every case should score. It can
fail on purpose (first N requests answer 503) and can be stopped and restarted on the same port
to test retries and resumption. End-to-end tests use the real vLLM server instead.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_CODE = re.compile(r"\((?:[A-Za-z0-9-]+ )?([A-Z0-9.]+)\)\s*$", re.M)


class FakeChatServer:
    def __init__(self, answers: dict[str, str], *, port: int = 0, fail_first: int = 0,
                 extra: dict[str, dict] | None = None, stop_after: int | None = None,
                 models: tuple[str, ...] | None = None):
        self.answers = answers      # diagnosis code -> message content
        self.extra = extra or {}    # diagnosis code -> extra top-level fields (assistant API)
        self.fail_first = fail_first
        self.stop_after = stop_after  # simulate a crash: stop serving after this many answers
        self.models = models          # None = any model name is served
        self.stopped = threading.Event()
        self.requests: list[dict] = []
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FakeChatServer":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/") == "/v1/models":
                    names = fake.models or ("fake-model",)
                    self._send(200, {"object": "list", "data": [
                        {"id": n, "object": "model"} for n in names]})
                else:
                    self._send(404, {"error": {"message": "not found", "type": "NotFoundError"}})

            def do_POST(self):
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    if fake.stop_after is not None and len(fake.requests) >= fake.stop_after:
                        # Crashing: the connection drops without an answer.
                        self.close_connection = True
                        return
                    fake.requests.append(payload)
                    n = len(fake.requests)
                if fake.models is not None and payload.get("model") not in fake.models:
                    self._send(404, {"error": {"message": f"The model `{payload.get('model')}` "
                                               "does not exist.", "type": "NotFoundError"}})
                    return
                if n <= fake.fail_first:
                    self._send(503, {"error": {"message": "warming up", "type": "unavailable"}})
                    return
                user = [m["content"] for m in payload["messages"] if m["role"] == "user"][-1]
                codes = _CODE.findall(user.split("Recommended drugs:")[0])
                code = codes[-1] if codes else ""
                content = fake.answers.get(code, "")
                body = {"id": f"fake-{n}", "object": "chat.completion", "model": payload["model"],
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": content}}]}
                body.update(fake.extra.get(code, {}))
                self._send(200, body)
                if fake.stop_after is not None and n == fake.stop_after:
                    threading.Thread(target=fake.stop, daemon=True).start()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        self.stopped.set()
