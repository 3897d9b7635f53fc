"""The engine supervisor with a fake engine: restarts with backoff, reports its state."""

from __future__ import annotations

import threading
import time

from rxassist.errors import ModelUnavailable
from serving.supervisor import EngineSupervisor


class FakeEngine:
    def __init__(self, failures: int):
        self.failures, self.starts, self.up = failures, 0, True
        self.proc = type("P", (), {"returncode": -9})()

    def alive(self):
        return self.up

    def stop(self, grace_s=20):
        self.up = False

    def start(self):
        self.starts += 1

    def wait_ready(self, should_stop=lambda: False):
        if self.starts <= self.failures:
            raise ModelUnavailable("the model engine exited with code 1 during start-up")
        self.up = True


def test_dead_engine_is_restarted_with_backoff_until_it_comes_back():
    engine, stop = FakeEngine(failures=2), threading.Event()
    sup = EngineSupervisor(engine, stop, poll_s=0.01, backoff_s=0.05, max_backoff_s=0.1)
    sup.start()
    try:
        engine.up = False          # the engine dies
        seen = set()
        deadline = time.monotonic() + 5
        while not (engine.up and sup.state == "ready"):
            seen.add(sup.state)
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert engine.starts == 3 and sup.restarts == 3
        assert any(s.startswith("restarting") for s in seen)
    finally:
        stop.set()
        sup.join(2)


def test_stop_ends_the_supervisor():
    engine, stop = FakeEngine(failures=10**6), threading.Event()
    sup = EngineSupervisor(engine, stop, poll_s=0.01, backoff_s=0.05)
    sup.start()
    engine.up = False
    time.sleep(0.1)
    stop.set()
    sup.join(2)
    assert not sup.is_alive()
