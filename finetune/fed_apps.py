"""The Flower ServerApp and ClientApp of federated FA-LoRA (Flower's Message API).

The same two apps run in simulation (`flwr.simulation.run_simulation`, Ray backend; what
`rxassist finetune federated` does) and on real hospital machines under Flower's deployment engine
(SuperLink + one SuperNode per site; docs/federated.md).

What crosses the wire, and nothing else:
  server -> site: the global B arrays, a ConfigRecord with the round plan and the model spec
                  (base model id, rank, alpha, target modules, seed, fingerprint of the frozen A)
  site -> server: the site's new B arrays, and a MetricRecord with two numbers (its example
                  count or, under DP, a constant weight, and its mean training loss)
GuardedStrategy enforces this on every reply: an array that is not a B matrix, or a metric that
is not on the list, stops the run. A failing site is named (it raises SiteFailed with its name
only; never case content) and the run stops; no adapter is written.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from rxassist.errors import RxAssistError

from finetune.fed_local import B_MARK, LocalPlan, ModelSpec, a_fingerprint, b_arrays, \
    build_model, train_locally

# Weights: examples per site without DP; under DP Flower's accountant needs equal weights
# (each site's clipped update then moves the average by at most C / n).
WEIGHT_BY_EXAMPLES = "num-examples"
WEIGHT_UNIFORM = "site-weight"
ALLOWED_METRICS = {WEIGHT_BY_EXAMPLES, WEIGHT_UNIFORM, "train-loss"}
_FAILED = re.compile(r"rxassist-site-failed\[([A-Za-z0-9._-]+)\]")


class SiteFailed(RxAssistError):
    """A site could not finish its round; carries the site names."""

    error_type, exit_code = "site_failed", 1

    def __init__(self, sites: list[str], detail: str = ""):
        self.sites = sites
        super().__init__(f"site(s) {', '.join(sites)} failed during the round{detail}; "
                         "the run stopped and no adapter was written", code="site_failed")


class PrivacyViolation(RxAssistError):
    """A reply carried something other than B arrays and the allowed metrics."""

    error_type, exit_code = "privacy_violation", 1


def _site_error(site: str, exc: BaseException) -> RuntimeError:
    # Only the site's name and the error class travel: exception text may quote case data.
    return RuntimeError(f"rxassist-site-failed[{site}] {type(exc).__name__}")


def make_client_app(site_files: list[tuple[str, Path]], *, dp: bool,
                    threads: int | None = None):
    """A ClientApp. In simulation a node finds its site by partition id in `site_files`; on a
    real SuperNode, `--node-config "site-name='...' cases='...'"` names the site's own file."""
    from flwr.app import Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.clientapp.mod import fixedclipping_mod

    app = ClientApp(mods=[fixedclipping_mod] if dp else [])

    @app.train()
    def train(msg: Message, context) -> Message:
        node = context.node_config
        if "cases" in node:
            site, cases = str(node.get("site-name", "site")), Path(str(node["cases"]))
        else:
            site, cases = site_files[int(node["partition-id"])]
        try:
            config = msg.content["config"]
            spec = ModelSpec.from_config(config)
            plan = LocalPlan(server_round=int(config["server-round"]),
                             local_steps=int(config["local-steps"]),
                             batch_size=int(config["batch-size"]), lr=float(config["lr"]),
                             max_length=int(config["max-length"]),
                             max_grad_norm=(float(config["max-grad-norm"])
                                            if float(config["max-grad-norm"]) > 0 else None))
            b_in = {k: v.numpy() for k, v in msg.content["arrays"].items()}
            site_seed = spec.seed * 1_000_003 + sum(site.encode())
            b_out, stats = train_locally(spec, plan, cases, b_in, str(config["a-fingerprint"]),
                                         site_seed, threads)
        except Exception as exc:  # boundary: one named failure, no case text
            raise _site_error(site, exc) from None
        metrics = {"train-loss": stats["train-loss"]}
        if dp:
            metrics[WEIGHT_UNIFORM] = 1
        else:
            metrics[WEIGHT_BY_EXAMPLES] = stats["num-examples"]
        return Message(RecordDict({"arrays": _record(b_out),
                                   "metrics": MetricRecord(metrics)}), reply_to=msg)

    return app


def _record(arrays: dict):
    from flwr.app import Array, ArrayRecord
    return ArrayRecord({k: Array(v) for k, v in arrays.items()})


def _array_bytes(record) -> int:
    return sum(len(a.data) for a in record.values())


def _guarded(inner, observer: Callable | None):
    """Wrap a Flower strategy: count bytes each way, check every reply, stop on a failed site."""
    from flwr.serverapp.strategy import Strategy

    class GuardedStrategy(Strategy):
        def __init__(self):
            super().__init__()
            self.inner = inner
            self.rounds: list[dict] = []

        def configure_train(self, server_round, arrays, config, grid):
            messages = list(self.inner.configure_train(server_round, arrays, config, grid))
            self.rounds.append({"round": server_round, "sites": len(messages),
                                "bytes_to_sites": sum(_array_bytes(m.content["arrays"])
                                                      for m in messages),
                                "started": time.perf_counter()})
            return messages

        def aggregate_train(self, server_round, replies: Iterable):
            replies = list(replies)
            failed = []
            for m in replies:
                if observer is not None:
                    observer(m)
                if m.has_error():
                    found = _FAILED.findall(str(m.error.reason))
                    failed.append(found[0] if found else f"node {m.metadata.src_node_id}")
                    continue
                self._check(m)
            if failed:
                raise SiteFailed(sorted(set(failed)), f" in round {server_round}")
            current = self.rounds[-1]
            current["bytes_from_sites"] = sum(_array_bytes(m.content["arrays"]) for m in replies)
            current["seconds"] = round(time.perf_counter() - current.pop("started"), 2)
            losses = [m.content["metrics"]["train-loss"] for m in replies]
            current["mean_site_loss"] = sum(losses) / len(losses)
            return self.inner.aggregate_train(server_round, replies)

        @staticmethod
        def _check(m) -> None:
            content = m.content
            extra = set(content.keys()) - {"arrays", "metrics"}
            bad_arrays = [k for k in content["arrays"].keys() if B_MARK not in k]
            bad_metrics = set(content["metrics"].keys()) - ALLOWED_METRICS
            if extra or bad_arrays or bad_metrics or content.config_records:
                raise PrivacyViolation(
                    "a site sent more than B arrays and aggregate metrics "
                    f"(records {sorted(extra)}, {len(bad_arrays)} non-B arrays, metrics "
                    f"{sorted(bad_metrics)}); the run stopped")

        def configure_evaluate(self, server_round, arrays, config, grid):
            return []  # held-out evaluation runs on the finished adapter, not on sites

        def aggregate_evaluate(self, server_round, replies):
            return None

        def summary(self) -> None:
            self.inner.summary()

    return GuardedStrategy()


def make_server_app(settings: dict, result: dict, observer: Callable | None = None):
    """A ServerApp running `settings["rounds"]` rounds of FedAvg over B (optionally wrapped in
    client-side fixed clipping DP with an RDP accountant). Fills `result` with the final B, the
    privacy spent and per-round traffic; the caller writes the adapter."""
    from flwr.app import ConfigRecord
    from flwr.serverapp import ServerApp
    from flwr.serverapp.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg

    app = ServerApp()

    @app.main()
    def main(grid, context) -> None:
        spec = ModelSpec(**settings["spec"])
        _, model, _ = build_model(spec)
        n = settings["n_sites"]
        dp = settings["noise_multiplier"] > 0
        strategy = FedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=n,
                          min_available_nodes=n,
                          weighted_by_key=WEIGHT_UNIFORM if dp else WEIGHT_BY_EXAMPLES)
        if dp:
            from flwr.supercore.privacy_accounting import (NeighboringRelation, PrivacyConfig,
                                                           SamplingMethod)
            from flwr.supercore.privacy_accounting.rdp_accountant import RdpAccountant

            accountant = RdpAccountant(PrivacyConfig(
                target_delta=settings["delta"], population_size=n,
                neighboring_relation=NeighboringRelation.ADD_OR_REMOVE_ONE,
                sampling_method=SamplingMethod.NO_AMPLIFICATION))
            strategy = DifferentialPrivacyClientSideFixedClipping(
                strategy, noise_multiplier=settings["noise_multiplier"],
                clipping_norm=settings["clipping_norm"], num_sampled_clients=n,
                accountant=accountant)
        guarded = _guarded(strategy, observer)
        train_config = ConfigRecord({
            **spec.as_config(), "a-fingerprint": a_fingerprint(model),
            "local-steps": settings["local_steps"], "batch-size": settings["batch_size"],
            "lr": settings["lr"], "max-length": settings["max_length"],
            "max-grad-norm": float(settings["max_grad_norm"] or 0.0)})
        started = time.perf_counter()
        outcome = guarded.start(grid=grid, initial_arrays=_record(b_arrays(model)),
                                num_rounds=settings["rounds"], train_config=train_config)
        result["seconds"] = round(time.perf_counter() - started, 2)
        result["b"] = {k: v.numpy() for k, v in outcome.arrays.items()}
        result["rounds"] = guarded.rounds
        result["a_bytes"] = sum(4 * p.numel() for n, p in model.named_parameters()
                                if "lora_A" in n)
        if dp:
            spent = strategy.privacy_spent()
            result["privacy"] = {"epsilon": spent.epsilon, "delta": spent.delta,
                                 "releases": spent.num_releases,
                                 "accounting": spent.accounting_method}

    return app
