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


def states_until(done, state, timeout_s: float = 5.0) -> set[str]:
    """The supervisor states seen while polling until `done()`; fails after timeout_s."""
    seen = set()
    deadline = time.monotonic() + timeout_s
    while not done():
        seen.add(state())
        assert time.monotonic() < deadline
        time.sleep(0.005)
    return seen


def test_dead_engine_is_restarted_with_backoff_until_it_comes_back():
    engine, stop = FakeEngine(failures=2), threading.Event()
    sup = EngineSupervisor(engine, stop, poll_s=0.01, backoff_s=0.05, max_backoff_s=0.1)
    sup.start()
    try:
        engine.up = False          # the engine dies
        seen = states_until(lambda: engine.up and sup.state == "ready", lambda: sup.state)
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


def test_each_engine_is_restarted_on_its_own_and_the_state_names_it():
    from serving.supervisor import supervise

    main, lora, stop = FakeEngine(failures=0), FakeEngine(failures=1), threading.Event()

    class Pair:
        def members(self):
            return [("default-adapter engine", main), ("lora engine", lora)]

    group = supervise(Pair(), stop, poll_s=0.01, backoff_s=0.2, max_backoff_s=0.2)
    group.start()
    try:
        assert group.state == "ready"
        lora.up = False            # only the LoRA engine dies
        seen = states_until(lambda: lora.up and group.state == "ready", lambda: group.state)
        assert lora.starts == 2 and main.starts == 0   # the default engine kept serving
        assert any(s.startswith("restarting (lora engine") for s in seen), seen
    finally:
        stop.set()
        group.join(2)


def test_a_restarted_lora_engine_registers_hot_added_adapters(tmp_path, monkeypatch):
    import serving.vllm_process as engine_mod
    from serving.adapters import Adapter
    from serving.config import EngineConfig
    from serving.vllm_process import EngineProcess, EngineSpec

    cfg = EngineConfig(base_model=str(tmp_path), served_name="m", log_path=tmp_path / "e.log",
                       api_key="model-key-for-tests-0123456789")
    hot_added = Adapter(name="a1", path=tmp_path / "a1", rank=8, base_model=cfg.base_model)
    commands = []

    class Proc:
        pid = 0

        def poll(self):
            return None

    monkeypatch.setattr(engine_mod, "ensure_port_free", lambda *a: None)
    monkeypatch.setattr(engine_mod.subprocess, "Popen",
                        lambda cmd, **kw: commands.append(cmd) or Proc())
    engine = EngineProcess(cfg, [], EngineSpec(model=cfg.base_model, served_names=("m",),
                                               port=9, lora=True), on_gpu=False)
    engine.start()
    assert "--lora-modules" not in commands[-1]
    engine.adapters.append(hot_added)   # what load_adapter records on a hot-add
    engine.start()
    assert commands[-1][commands[-1].index("--lora-modules") + 1].startswith("a1=")
