"""`rxassist finetune federated`: federated FA-LoRA over simulated hospitals, one adapter out.

1. Sites: --cases is split into --sites hospitals by a seeded Dirichlet draw per ICD-10-CM chapter
   or age band (finetune.partition); each --site-file NAME=FILE is a site of its own (e.g. the
   Synthea sample). Each site's cases go to a private file that only that site's ClientApp reads.
2. Flower simulation (Ray backend): every round each site trains FA-LoRA for --local-steps from
   the global B and sends back its B; the server averages them (FedAvg by example count, or
   uniformly under DP with client-side clipping and Gaussian noise).
3. The final B with the shared frozen A is written as a plain PEFT LoRA adapter folder, plus
   federated_report.json: sites, rounds, steps, noise, clipping, (epsilon, delta), bytes/round.
   It is written to a temporary folder and renamed at the very end, so a failed run never
   leaves anything at --out that looks like a finished adapter.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rxassist.cases import Case, read_cases
from rxassist.errors import ConfigError, InvalidInput, NotFound, RxAssistError
from recommend.prompt import PROMPT_VERSION

from finetune.fed_config import FederatedConfig
from finetune.partition import Site, dirichlet_split

REPORT_FILE = "federated_report.json"


class FederatedRunFailed(RxAssistError):
    """The simulation runtime itself failed (Ray start-up, a worker killed for memory)."""

    error_type, exit_code = "federated_run_failed", 1


def _read(path: Path, option: str) -> list[Case]:
    if not path.is_file():
        raise NotFound(f"{option} {str(path)!r} does not exist", param=option.lstrip("-"))
    case_file = read_cases(path)
    for err in case_file.errors:
        print(f"rxassist finetune federated: skipped {path}:{err}", file=sys.stderr)
    if not case_file.cases:
        raise InvalidInput(f"{option} {str(path)!r} holds no valid case", param=option.lstrip("-"))
    return case_file.cases


def build_sites(config: FederatedConfig) -> list[Site]:
    """The simulated hospitals from --cases plus one site per --site-file."""
    import random

    cases = _read(config.cases, "--cases")
    if config.sites > len(cases):
        raise ConfigError(f"--sites {config.sites} is more than the {len(cases)} cases in "
                          f"{str(config.cases)!r}", param="sites")
    sites = dirichlet_split(cases, config.sites, by=config.partition, alpha=config.alpha,
                            seed=config.seed)
    sites += [Site(name, tuple(_read(path, "--site-file"))) for name, path in config.site_files]
    if config.max_site_cases is not None:
        rng = random.Random(config.seed)
        sites = [Site(s.name, tuple(rng.sample(s.cases, min(len(s.cases),
                                                             config.max_site_cases))))
                 for s in sites]
    return sites


def _write_site_files(sites: list[Site], folder: Path) -> list[tuple[str, Path]]:
    out = []
    for s in sites:
        path = folder / f"{s.name}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # patient data
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for c in s.cases:
                fh.write(c.model_dump_json() + "\n")
        out.append((s.name, path))
    return out


def _check_out(config: FederatedConfig) -> None:
    if config.out.exists() and any(config.out.iterdir()) and not config.overwrite:
        raise ConfigError(f"--out {str(config.out)!r} exists and is not empty; pass --overwrite "
                          "or choose another folder", param="out")


def _ray_memory_threshold() -> None:
    # Ray kills workers once the *machine* passes 95% memory, even when the sites themselves use
    # little (shared machines, a vLLM server beside them); 0.99 still leaves the kernel's OOM
    # killer as the last resort. An explicit RAY_memory_usage_threshold wins.
    os.environ.setdefault("RAY_memory_usage_threshold", "0.99")


def _quiet_flower(verbose: bool) -> None:
    if not verbose:
        logging.getLogger("flwr").setLevel(logging.WARNING)


def run_federated(config: FederatedConfig, *, observer=None, verbose: bool = False) -> dict:
    """Run the federated training; returns the report written beside the adapter."""
    _check_out(config)
    sites = build_sites(config)
    try:
        from flwr.simulation import run_simulation
    except ImportError:
        raise ConfigError("federated training needs Flower (flwr 1.42), which scripts/setup.sh "
                          "installs", param="sites") from None

    from finetune.fed_apps import make_client_app, make_server_app
    from finetune.fed_local import ModelSpec, build_model, set_b
    from finetune.params import count_params

    spec = ModelSpec(base_model=config.base_model, rank=config.rank,
                     lora_alpha=config.alpha_lora, target_modules=config.target_modules,
                     seed=config.seed)
    settings = {"spec": spec.__dict__, "n_sites": len(sites), "rounds": config.rounds,
                "local_steps": config.local_steps, "batch_size": config.batch_size,
                "lr": config.lr, "max_length": config.max_length,
                "max_grad_norm": config.max_grad_norm,
                "noise_multiplier": config.noise_multiplier,
                "clipping_norm": config.clipping_norm, "delta": config.delta}
    config.out.parent.mkdir(parents=True, exist_ok=True)
    # Staging next to --out (same file system: the final rename is atomic); the sites' case
    # files in the system's temporary folder, never beside an adapter.
    work = Path(tempfile.mkdtemp(prefix=f".{config.out.name}.federated-", dir=config.out.parent))
    site_dir = Path(tempfile.mkdtemp(prefix="rxassist-sites-"))
    result: dict = {}
    started = time.perf_counter()
    _quiet_flower(verbose)
    _ray_memory_threshold()
    try:
        site_files = _write_site_files(sites, site_dir)  # mkdtemp: mode 0700
        server = make_server_app(settings, result, observer)
        client = make_client_app(site_files, dp=config.dp, threads=config.threads)
        try:
            run_simulation(server_app=server, client_app=client, num_supernodes=len(sites),
                           backend_config={"client_resources": {"num_cpus": 1},
                                           "init_args": {"num_cpus": config.parallel_sites,
                                                         "include_dashboard": False,
                                                         "log_to_driver": verbose}},
                           verbose_logging=verbose)
        except RxAssistError:
            raise
        except Exception as e:  # boundary: Ray/Flower runtime failures become one clear error
            raise FederatedRunFailed(f"the Flower simulation failed ({type(e).__name__}: "
                                     f"{str(e)[:200]}); no adapter was written") from None
        if "b" not in result:
            raise ConfigError("the federated run ended without a final model; see the Flower "
                              "log above (rerun with --verbose)", param="rounds")
        wall = time.perf_counter() - started
        _, model, runtime = build_model(spec)
        set_b(model, result["b"])
        staging = work / "adapter"
        model.save_pretrained(staging, safe_serialization=True)
        report = _report(config, sites, result, count_params(model).as_report(), runtime, wall)
        (staging / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        if config.out.exists():
            shutil.rmtree(config.out)
        staging.rename(config.out)  # the adapter appears complete or not at all
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(site_dir, ignore_errors=True)


def _report(config: FederatedConfig, sites: list[Site], result: dict, counts: dict, runtime,
            wall: float) -> dict:
    rounds = result["rounds"]
    b_bytes = rounds[0]["bytes_to_sites"] // max(1, rounds[0]["sites"]) if rounds else 0
    a_bytes = result["a_bytes"]  # what plain LoRA would also send each way (float32, like B)
    n = len(sites)
    return {
        "method": "fa-lora", "federated": True, "framework": "flower (simulation, ray backend)",
        "rank": config.rank, "lora_alpha": config.alpha_lora,
        "target_modules": list(config.target_modules), "lr": config.lr,
        "batch_size": config.batch_size, "seed": config.seed,
        "base_model": config.base_model or "default", "prompt_version": PROMPT_VERSION,
        "sites": [{"name": s.name, "cases": len(s.cases),
                   "groups": s.group_counts(config.partition)} for s in sites],
        "partition": {"by": config.partition, "dirichlet_alpha": config.alpha,
                      "seed": config.seed, "site_files": [n for n, _ in config.site_files],
                      "max_site_cases": config.max_site_cases},
        "rounds": config.rounds, "local_steps": config.local_steps,
        "steps_total": config.rounds * config.local_steps * n,
        "aggregation": "fedavg, uniform over sites (DP)" if config.dp
                       else "fedavg weighted by site example count",
        "dp": {"enabled": config.dp, "level": "site (client-side fixed clipping, Gaussian noise)",
               "noise_multiplier": config.noise_multiplier,
               "clipping_norm": config.clipping_norm if config.dp else None,
               "accountant": "rdp" if config.dp else None,
               "epsilon": result.get("privacy", {}).get("epsilon"),
               "delta": result.get("privacy", {}).get("delta") if config.dp else None},
        "bytes_per_round": {"fa_lora_b_only": 2 * n * b_bytes,
                            "lora_a_and_b_equivalent": 2 * n * (a_bytes + b_bytes),
                            "note": "array payload, server->sites + sites->server"},
        "per_round": rounds, "server_seconds": result.get("seconds"),
        "wall_seconds": round(wall, 2), **counts,
        "dtype": runtime.dtype, "device": runtime.device,
    }
