"""CPU time and peak RSS of the render benchmark's worker, this tree against a baseline tree.

    git worktree add --detach /tmp/render-baseline <commit>
    .venv/bin/python benchmarks/render_cpu_vs_baseline.py /tmp/render-baseline --runs 3

On a machine others are loading, wall time says little; the CPU time of the whole process
tree (user + system, ffmpeg children included) moves much less. Runs alternate between the
trees; each variant is a set of `render_vs_moviepy.py --worker ours` arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parents[1]
VARIANTS = {"default": [], "zoom,0.5": ["--motion", "zoom,0.5"], "karaoke": ["--mode", "karaoke"]}


def measure(tree: Path, args: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="render-cpu-") as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker = [sys.executable, str(tree / "benchmarks/render_vs_moviepy.py"), "--worker"]
        process = subprocess.Popen(
            [*worker, "ours", "--workdir", tmp, *args],
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(tree)),
        )
        root, peak = psutil.Process(process.pid), 0
        while process.poll() is None:
            try:
                tree_rss = [p.memory_info().rss for p in [root, *root.children(recursive=True)]]
                peak = max(peak, sum(tree_rss))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.05)
        stdout, _ = process.communicate()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, float] = json.loads(stdout.strip().splitlines()[-1])
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    result.update(cpu_seconds=cpu, peak_rss_mb=peak / 2**20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path, help="a checkout of the baseline commit")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variants", default="default,zoom,0.5", help="comma-separated")
    args = parser.parse_args()
    names = [n for n in VARIANTS if n in args.variants]
    for name in names:
        rows: dict[str, list[dict[str, float]]] = {"this": [], "baseline": []}
        for _ in range(args.runs):
            for label, tree in (("this", HERE), ("baseline", args.baseline)):
                if name == "karaoke" and label == "baseline":
                    continue  # the baseline has no karaoke style
                rows[label].append(measure(tree, VARIANTS[name]))
                print(name, label, json.dumps(rows[label][-1]), flush=True)
        for label, runs in rows.items():
            if runs:
                per_second = statistics.median(r["cpu_seconds"] / r["video_seconds"] for r in runs)
                rss = max(r["peak_rss_mb"] for r in runs)
                print(f"{name:9} {label:8} {per_second:.3f} CPU-s per video second, {rss:.0f} MB")


if __name__ == "__main__":
    main()
