"""Layers import only downward.

    rxassist (core) < guardrails < recommend < assistant | eval | finetune | casedata
                    < serving < CLI modules (`rxassist.cli` and every `<package>/cli.py`)

Every import statement of every product module counts, those inside functions too (a lazy
import hides a cycle; it does not remove it). Packages on the same layer do not import each
other: the assistant, the evaluation suite, fine-tuning and dataset building are peers.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

LAYERS: dict[str, int] = {
    "rxassist": 0,
    "guardrails": 1,
    "recommend": 2,
    "assistant": 3, "eval": 3, "finetune": 3, "casedata": 3,
    "serving": 4,
}
CLI_LAYER = max(LAYERS.values()) + 1
# Entry points that wrap the whole assistant for another framework sit with the CLI, on top.
ENTRY_POINTS = {"rxassist.langchain"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> tuple[int, str] | None:
    """(layer, package) of a project module; None for anything outside the project."""
    package = module.split(".")[0]
    if package not in LAYERS:
        return None
    if module.split(".")[-1] == "cli" or module in ENTRY_POINTS:
        return CLI_LAYER, "cli"
    return LAYERS[package], package


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) for each import in the tree, relative ones resolved."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` may name a submodule: judge it by the package's own layer.
            out.append((node.lineno, base))
    return out


def layer_violations(root: Path) -> list[str]:
    """Every import of a project module from a higher layer or a peer package, as
    'path:line: importer -> imported'."""
    bad: list[str] = []
    for package in LAYERS:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            own = layer_of(module)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, target in imported_modules(tree, module, path.name == "__init__.py"):
                theirs = layer_of(target)
                if own is None or theirs is None:
                    continue
                higher = theirs[0] > own[0]
                peer = theirs[0] == own[0] and theirs[1] != own[1] and own[1] != "cli"
                if higher or peer:
                    bad.append(f"{path.relative_to(root)}:{line}: {module} -> {target}")
    return bad


def test_layers_import_only_downward():
    assert layer_violations(REPO) == []


def test_every_product_package_has_a_layer():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages <= set(LAYERS), f"give these packages a layer: {packages - set(LAYERS)}"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in LAYERS:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return root


def test_the_layer_check_fails_on_an_upward_import(tmp_path):
    # The import cycle this test was written against: core and guardrails importing each other.
    root = _tree(tmp_path, {
        "rxassist/schemas.py": "from guardrails import Flag\n",
        "guardrails/_check.py": "def f():\n    from rxassist.cases import Patient\n",
    })
    assert layer_violations(root) == ["rxassist/schemas.py:1: rxassist.schemas -> guardrails"]


def test_the_layer_check_sees_lazy_relative_and_peer_imports(tmp_path):
    root = _tree(tmp_path, {
        "recommend/x.py": "def f():\n    import serving.app\n",        # upward, in a function
        "assistant/core.py": "from eval.targets import T\n",             # a peer
        "guardrails/sub/y.py": "from ...recommend import shortlist\n",   # relative, upward
        "eval/cli.py": "import serving.app\n",                           # a CLI module: top
        "serving/app.py": "from assistant.core import A\nimport recommend\n",   # downward
    })
    assert layer_violations(root) == [
        "guardrails/sub/y.py:1: guardrails.sub.y -> recommend",
        "recommend/x.py:2: recommend.x -> serving.app",
        "assistant/core.py:1: assistant.core -> eval.targets",
    ]
