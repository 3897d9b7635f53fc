"""The compiled knowledge base, loaded once per process on first use."""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

from rxassist.errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent / "data"
KB_PATH = DATA_DIR / "kb.json.gz"
KB_FORMAT = 2


@dataclass(frozen=True)
class Entry:
    brand: bool
    ingredients: tuple[str, ...]


class KnowledgeBase:
    def __init__(self, raw: dict, path: Path):
        if raw.get("format") != KB_FORMAT:
            raise ConfigError(f"{path}: knowledge base format {raw.get('format')!r}, expected "
                              f"{KB_FORMAT}; rebuild with `rxassist guardrails build-kb`")
        self.path = path
        self.sources: dict = raw["sources"]
        self.counts: dict = raw["counts"]
        ing: list[str] = raw["ingredients"]
        self._ing = ing
        self.ingredients = frozenset(ing)
        # name key -> "b:i,j" (brand flag, ingredient indices); parsed on lookup, since
        # building 60k objects up front would double the load time.
        keys = raw["names"]["keys"]
        self.names: dict[str, str] = dict(zip(keys, raw["names"]["values"]))
        # What fuzzy matching may land on: names of clinical ingredients (see _build.py).
        self.fuzzy_keys: list[str] = [keys[i] for i in raw["fuzzy"]]
        self.ambiguous: dict[str, list[str]] = raw["ambiguous"]
        self.epc: dict[str, frozenset[str]] = {
            ing[int(i)]: frozenset(c) for i, c in raw["epc"].items()}
        self.clinical = frozenset(ing[i] for i in raw["clinical"])

    def lookup(self, key: str) -> Entry | None:
        raw = self.names.get(key)
        if raw is None:
            return None
        return Entry(raw[0] == "1", tuple(self._ing[int(i)] for i in raw[2:].split(",")))


T = TypeVar("T")
_lock = threading.Lock()
_cache: dict[tuple[str, Path], object] = {}


def load_built(p: Path, what: str, make: Callable[[dict, Path], T]) -> T:
    """A data file `build-kb` writes (gzip JSON) as `make(data, path)`, read once per process
    and path; a missing file is a ConfigError saying how to build it."""
    key = (what, p)
    obj = _cache.get(key)
    if obj is None:
        with _lock:
            obj = _cache.get(key)
            if obj is None:
                if not p.exists():
                    raise ConfigError(f"{what} {p} is missing; "
                                      "build it with `rxassist guardrails build-kb`")
                with gzip.open(p, "rt", encoding="utf-8") as fh:
                    obj = _cache[key] = make(json.load(fh), p)
    return obj  # type: ignore[return-value]


def load(path: Path | str | None = None) -> KnowledgeBase:
    return load_built(Path(path) if path else KB_PATH, "knowledge base", KnowledgeBase)
