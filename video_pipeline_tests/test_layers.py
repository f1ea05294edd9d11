"""No module imports from a layer above its own: the contract at the bottom, the wiring at
the top (read from the source, so lazy imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "video_pipeline"

LAYERS: list[set[str]] = [
    {"models", "errors", "config", "text", "fonts", "layout", "samples", "quotas", "queues"},
    {"providers"},
    {"render"},
    {"stages"},
    {"storage", "platform_config", "metrics"},
    {"resources", "webhooks", "distributed", "run_launcher", "instance_storage", "pool_wait"},
    {"assets"},
    {
        "automation",
        "cancellation",
        "retention",
        "deletion",
        "platform_sensors",
        "settings",
        "definitions",
        "devstack",
        "doctor",
        "estimate",
        "serve",
        "cli",
        "cli_platform",
        "project_request",
        "warm_imports",
    },
]
ENTRY_POINTS = {"storage/migrations/env.py"}
"""Scripts a tool runs (alembic's environment); they may reach for the settings."""


def layer_of(top: str) -> int:
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"video_pipeline.{top} has no layer: add it to LAYERS")


def imported_tops(path: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "video_pipeline" and len(parts) > 1:
                tops.add(parts[1])
    return tops


def test_no_module_imports_from_a_layer_above_it() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        top = relative.parts[0].removesuffix(".py")
        if top == "__init__" or str(relative) in ENTRY_POINTS:
            continue
        own = layer_of(top)
        for imported in imported_tops(path):
            if layer_of(imported) > own:
                upward.append(f"{relative} imports video_pipeline.{imported}")
    assert upward == []
