"""Session fixtures that start the REAL stack on free loopback ports.

`rx_server` runs `rxassist serve` exactly as a user would (vLLM CPU engine with the embedded
SmolLM2 model, the assistant API, the Gradio UI); `vllm_server` is its model API. Started once per
test session because the engine takes minutes to start on 2 cores. `rx_server_keyed` is the same
command with `--api-key` (module-scoped); both go through `running_serve`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rxassist.paths import SHIPPED_ADAPTERS_DIR, resolve_base_model

STARTUP_TIMEOUT_S = float(os.environ.get("RXASSIST_TEST_STARTUP_TIMEOUT", "1200"))
# The model API always needs its own key; the tests give `serve` a known one (a user reads the
# generated one from $RXASSIST_HOME/run/model-api-key-PORT).
MODEL_API_KEY = "rxassist-test-model-key-" + os.urandom(8).hex()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """No socket LISTENs on it (TIME_WAIT leftovers of closed connections don't count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def tail(path: Path, n: int = 40) -> str:
    try:
        return "".join(path.read_text(errors="replace").splitlines(True)[-n:])
    except OSError:
        return ""


@dataclass
class RxServer:
    api_url: str          # assistant API root, e.g. http://127.0.0.1:PORT
    model_url: str        # vLLM OpenAI API, e.g. http://127.0.0.1:PORT/v1
    ui_url: str
    model_port: int
    base_model_name: str  # the name vLLM lists the base model under
    adapter_dir: Path     # watched folder: drop an adapter here to hot-add it
    log_path: Path
    proc: subprocess.Popen
    model_api_key: str = MODEL_API_KEY
    api_key: str | None = None   # the assistant API/UI key(s) given to `serve`, if any

    @property
    def model_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.model_api_key}"}

    @property
    def base_url(self) -> str:   # so it can stand in as `vllm_server`
        return self.model_url

    @property
    def model_name(self) -> str:
        return self.base_model_name


@contextmanager
def running_serve(tmp_path_factory, *extra_args: str, api_key: str | None = None):
    """`rxassist serve` on free loopback ports until the block ends (SIGTERM, then checks that
    no engine outlives it). `extra_args` go to `serve` as they are; `api_key` adds --api-key."""
    base = resolve_base_model(None)
    api_port, model_port = free_port(), free_port()
    adapter_dir = tmp_path_factory.mktemp("hot-adapters")
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    cmd = [sys.executable, "-m", "rxassist.cli", "serve", "--port", str(api_port),
           "--model-port", str(model_port), "--adapter-dir", str(SHIPPED_ADAPTERS_DIR),
           "--adapter-dir", str(adapter_dir), "--adapter-rescan", "1",
           "--model-api-key", MODEL_API_KEY, *extra_args]
    env = {k: v for k, v in os.environ.items() if k != "RXASSIST_API_KEY"}  # only what is given
    if api_key:
        cmd += ["--api-key", api_key]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    api = f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            pytest.fail(f"rxassist serve exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"rxassist serve not healthy in {STARTUP_TIMEOUT_S:g}s:\n{tail(log_path)}")
        time.sleep(2)
    try:
        yield RxServer(api_url=api, model_url=f"http://127.0.0.1:{model_port}/v1",
                       ui_url=f"{api}/ui/", model_port=model_port,
                       base_model_name=Path(base).name, adapter_dir=adapter_dir,
                       log_path=log_path, proc=proc, api_key=api_key)
    finally:
        _stop(proc, model_port)


def _stop(proc: subprocess.Popen, model_port: int) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail("rxassist serve did not stop within 90 s of SIGTERM")
    # SIGTERM must stop every child: the engine's port is released, no orphan keeps it.
    deadline = time.monotonic() + 30
    while not port_is_free(model_port):
        if time.monotonic() > deadline:
            _kill_listener(model_port)
            pytest.fail(f"the model engine outlived `rxassist serve` (port {model_port} still held)")
        time.sleep(1)


@pytest.fixture(scope="session")
def rx_server(tmp_path_factory) -> RxServer:
    with running_serve(tmp_path_factory) as server:
        # `rxassist eval run` (and any OpenAI client) reads the model API key from OPENAI_API_KEY.
        old_key = os.environ.get("OPENAI_API_KEY")
        os.environ["OPENAI_API_KEY"] = MODEL_API_KEY
        try:
            yield server
        finally:
            if old_key is None:
                os.environ.pop("OPENAI_API_KEY", None)
            else:
                os.environ["OPENAI_API_KEY"] = old_key


# Two keys, as a clinic rotating them would pass (--api-key "new,old").
ASSISTANT_API_KEYS = ("rxassist-test-key-" + os.urandom(8).hex(),
                      "rxassist-test-old-" + os.urandom(8).hex())


@pytest.fixture(scope="module")
def rx_server_keyed(tmp_path_factory) -> RxServer:
    """`rxassist serve --api-key K1,K2`, for the tests of who gets in (API and UI login).
    Module-scoped: it runs next to `rx_server` only while its tests do. One LoRA engine without
    torch.compile (--merge-default off --enforce-eager) starts faster; keys don't depend on it."""
    with running_serve(tmp_path_factory, "--merge-default", "off", "--enforce-eager",
                       api_key=",".join(ASSISTANT_API_KEYS)) as server:
        yield server


def _kill_listener(port: int) -> None:
    import psutil

    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.pid:
            try:
                os.killpg(os.getpgid(conn.pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="session")
def vllm_server(rx_server) -> RxServer:
    """The model API (vLLM's own OpenAI server) of the running stack."""
    return rx_server


# Flower's Ray simulation rebinds process-wide state (sys.stdout/stderr, the flwr and ray log
# handlers, Ray's background threads) to the capture stream of the test that ran it; a test
# that runs later in the same process can then write to a closed file and take the whole run
# down ("lost sys.stderr"). The tests that start a simulation therefore run last.
_SIMULATION_MODULES = ("test_federated.py", "test_e2e_federated.py")


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.path.name in _SIMULATION_MODULES)
