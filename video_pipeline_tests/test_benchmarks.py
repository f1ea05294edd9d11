"""The benchmark scripts still import against the code they measure. They run rarely, and a
renamed module breaks one silently: mypy does not check them, and its
`ignore_missing_imports` would hide a missing module anyway."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_every_benchmark_script_imports() -> None:
    names = sorted(path.stem for path in BENCHMARKS.glob("*.py"))
    assert {"search", "search_owner_index", "throughput"} <= set(names)
    # Run from the folder, as the scripts are: some import their neighbours by name.
    result = subprocess.run(
        [sys.executable, "-c", f"import {', '.join(names)}"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
