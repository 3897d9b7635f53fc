"""Hot-adding adapters: new adapter folders are loaded into the running engine by name."""

from __future__ import annotations

import sys
import threading

from rxassist.errors import ModelUnavailable
from serving.adapters import discover


class AdapterWatcher(threading.Thread):
    def __init__(self, cfg, engine, assistant, stop: threading.Event):
        super().__init__(name="adapter-watcher", daemon=True)
        self.cfg, self.engine, self.assistant, self.stop_event = cfg, engine, assistant, stop
        self.refused: set[str] = set()

    def scan_once(self) -> list[str]:
        known = {a.name for a in self.engine.adapters}
        found, _ = discover(self.cfg.adapter_dirs, self.cfg.engine.base_model,
                            self.cfg.engine.max_lora_rank)
        added = []
        for adapter in found:
            if adapter.name in known or adapter.name in self.refused:
                continue
            try:
                self.engine.load_adapter(adapter)
                added.append(adapter.name)
                print(f"rxassist serve: now serving adapter {adapter.name}", file=sys.stderr,
                      flush=True)
            except ModelUnavailable as e:
                self.refused.add(adapter.name)
                print(f"rxassist serve: {e.message}", file=sys.stderr, flush=True)
        if added:
            self.assistant.set_adapters([a.name for a in self.engine.adapters])
        return added

    def run(self) -> None:
        if self.cfg.adapter_rescan_s <= 0:
            return
        while not self.stop_event.wait(self.cfg.adapter_rescan_s):
            try:
                self.scan_once()
            except Exception as e:  # the server must outlive a bad adapter folder
                print(f"rxassist serve: adapter scan failed: {type(e).__name__}: {e}",
                      file=sys.stderr, flush=True)
