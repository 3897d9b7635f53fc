"""Keeps the model engines running: when one dies, start it again with exponential backoff.

One `EngineSupervisor` thread per engine process (the merged default engine and the LoRA engine
are restarted independently; the other keeps serving). While one is down the assistant API
answers 503 + Retry-After (serving.errors) and /health names the state `supervise()` reports.
A restarted LoRA engine serves every adapter known at that moment (hot-added ones included).
"""

from __future__ import annotations

import sys
import threading

from rxassist.errors import RxAssistError


class EngineSupervisor(threading.Thread):
    def __init__(self, engine, stop: threading.Event, *, label: str = "model engine",
                 poll_s: float = 1.0, backoff_s: float = 2.0, max_backoff_s: float = 60.0):
        super().__init__(name=f"supervisor: {label}", daemon=True)
        self.engine, self.stop_event, self.label = engine, stop, label
        self.poll_s, self.backoff_s, self.max_backoff_s = poll_s, backoff_s, max_backoff_s
        self.state = "ready"
        self.restarts = 0

    def describe(self) -> str:
        return self.state

    def _say(self, text: str) -> None:
        print(f"rxassist serve: {text}", file=sys.stderr, flush=True)

    def restart_once(self) -> bool:
        """One attempt; True when the engine is healthy again."""
        self.engine.stop(grace_s=5)   # reap what is left of the old process group
        try:
            self.engine.start()
            self.engine.wait_ready(should_stop=self.stop_event.is_set)
        except RxAssistError as e:
            # The message holds the engine's last log lines, which never carry prompts.
            self._say(f"{self.label} restart failed: {e.message.splitlines()[0]}")
            self.engine.stop(grace_s=5)
            return False
        return True

    def run(self) -> None:
        delay = self.backoff_s
        while not self.stop_event.wait(self.poll_s):
            if self.engine.alive():
                continue
            self.state = "restarting"
            code = self.engine.proc.returncode if self.engine.proc else None
            self._say(f"the {self.label} exited (code {code}); restarting it")
            while not self.stop_event.is_set():
                self.restarts += 1
                self.state = f"restarting (attempt {self.restarts})"
                try:
                    ok = self.restart_once()
                except KeyboardInterrupt:  # wait_ready saw the stop event
                    return
                if ok:
                    self.state = "ready"
                    delay = self.backoff_s
                    self._say(f"the {self.label} is back")
                    break
                if self.stop_event.wait(delay):
                    return
                delay = min(delay * 2, self.max_backoff_s)


class SupervisorGroup:
    """The supervisors of all engines, seen as one: `state` is "ready" only when every engine
    is; otherwise the first engine that is not, e.g. "restarting (lora engine, attempt 2)"."""

    def __init__(self, supervisors: list[EngineSupervisor]):
        self.supervisors = supervisors

    @property
    def state(self) -> str:
        for sup in self.supervisors:
            if sup.state != "ready":
                if len(self.supervisors) == 1:
                    return sup.state
                word, _, rest = sup.state.partition(" (")
                return f"{word} ({sup.label}" + (f", {rest}" if rest else ")")
        return "ready"

    def describe(self) -> str:
        return self.state

    def start(self) -> None:
        for sup in self.supervisors:
            sup.start()

    def join(self, timeout: float | None = None) -> None:
        for sup in self.supervisors:
            sup.join(timeout)


def supervise(engines, stop: threading.Event, **kw) -> SupervisorGroup:
    """One supervisor per engine process in `engines.members()` ((label, engine) pairs)."""
    return SupervisorGroup([EngineSupervisor(e, stop, label=label, **kw)
                            for label, e in engines.members()])
