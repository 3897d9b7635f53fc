"""POSTing to an OpenAI-compatible endpoint with retries, and what can go wrong.

    transient  connection errors, timeouts, 429, 5xx  -> retried with exponential backoff;
               after the last retry: ModelUnavailable (the case stays unfinished, a rerun resumes)
    fatal      401/403 (key), 404 (model or URL)      -> ConfigError / NotFound: stop the run
    per case   any other 4xx, a 200 that is not JSON  -> CaseRejected: recorded as no output
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable

import httpx

from rxassist.errors import ConfigError, ModelUnavailable, NotFound


class CaseRejected(Exception):
    """The endpoint answered this one request with a client error; other cases may be fine."""


@dataclass
class RetryPolicy:
    max_retries: int = 6
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_backoff_s)
            except ValueError:
                pass
        base = min(self.backoff_s * 2 ** attempt, self.max_backoff_s)
        return base * (0.5 + random.random() / 2)  # jitter keeps concurrent workers apart


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(body, dict) and body.get("detail"):
            return str(body["detail"])
    except ValueError:
        pass
    return response.text[:300]


def post_json(client: httpx.Client, url: str, payload: dict, *, policy: RetryPolicy,
              sleep: Callable[[float], None] = time.sleep) -> dict:
    last = ""
    for attempt in range(policy.max_retries + 1):
        retry_after = None
        try:
            response = client.post(url, json=payload)
        except httpx.TransportError as e:
            last = f"{type(e).__name__}: {e}"
        else:
            code = response.status_code
            if code == 429 or code >= 500:
                last = f"HTTP {code}: {_message(response)}"
                retry_after = response.headers.get("retry-after")
            elif code in (401, 403):
                raise ConfigError(f"{url} refused the API key (HTTP {code}): {_message(response)}; "
                                  "set OPENAI_API_KEY (or JUDGE_API_KEY for the judge)")
            elif code == 404:
                raise NotFound(f"{url} answered 404: {_message(response)} "
                               "(check --base-url and --model)")
            elif code >= 400:
                raise CaseRejected(f"HTTP {code}: {_message(response)}")
            else:
                try:
                    body = response.json()
                except ValueError:
                    raise CaseRejected(f"HTTP {code} with a body that is not JSON") from None
                if not isinstance(body, dict):
                    raise CaseRejected("the response is not a JSON object")
                return body
        if attempt < policy.max_retries:
            sleep(policy.delay(attempt, retry_after))
    raise ModelUnavailable(f"{url} failed after {policy.max_retries + 1} attempt(s): {last}")


def chat_url(base_url: str) -> str:
    return base_url.rstrip("/") + "/chat/completions"


def message_content(body: dict) -> str | None:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None
