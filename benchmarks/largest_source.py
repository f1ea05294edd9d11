"""The largest source a project may send, through the sources and research stage functions.

    .venv/bin/python benchmarks/largest_source.py            # 3 runs of each measurement
    .venv/bin/python benchmarks/largest_source.py --quick    # 1 run each

1. Sentence splitting of one long paragraph (no blank lines: the worst case), the way the
   code split before (pysbd over the whole paragraph) and now (pysbd over bounded windows),
   side by side at the same sizes, as a ratio.
2. A file source of exactly the file limit (VIDEO_PIPELINE_MAX_SOURCE_BYTES, 10 MB) of prose
   in one paragraph, from the uploads folder through `extract_sources` and `run_research`
   (offline provider): seconds and peak RSS of the whole process.

Each run is a fresh process; peak RSS is the process's own maximum (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from video_pipeline.samples import DEMO_DIR

FILE_LIMIT = 10_000_000
SPLIT_SIZES = (50_000, 100_000)


def prose(size: int, seed: int = 1) -> str:
    """`size` characters of varied English prose in one paragraph: the demo's sentences,
    shuffled, each with a number so no two are alike."""
    sentences = [
        s.strip() + "."
        for s in " ".join((DEMO_DIR / "honeybees.md").read_text("utf-8").split()).split(". ")
        if len(s.split()) > 5 and not s.startswith("#")
    ]
    rng = random.Random(seed)
    parts, total, n = [], 0, 0
    while total < size:
        n += 1
        sentence = f"In colony {n}, {rng.choice(sentences)[0].lower()}{rng.choice(sentences)[1:]}"
        parts.append(sentence)
        total += len(sentence) + 1
    return " ".join(parts)[:size].rsplit(" ", 1)[0]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_split(kind: str, size: int) -> dict[str, float]:
    import pysbd

    from video_pipeline.text.sentences import split_sentences

    text = prose(size)
    started = time.perf_counter()
    if kind == "whole":
        count = len(pysbd.Segmenter(language="en", clean=False, char_span=True).segment(text))
    else:
        count = len(split_sentences(text))
    return {"seconds": time.perf_counter() - started, "sentences": count, "peak_mb": _peak_mb()}


def child_stages() -> dict[str, float]:
    from video_pipeline.models import Project, ProjectSettings, SourceInput
    from video_pipeline.providers.offline.content import OfflineContent
    from video_pipeline.stages.research import run_research
    from video_pipeline.stages.sources import IngestLimits, extract_sources

    with tempfile.TemporaryDirectory() as folder:
        uploads = Path(folder) / "uploads"
        uploads.mkdir()
        path = uploads / "largest.txt"
        data = prose(FILE_LIMIT).encode("utf-8")[:FILE_LIMIT]
        path.write_bytes(data[: data.rfind(b" ")])  # just under the limit, whole characters
        size = path.stat().st_size
        project = Project(
            id="bench",
            owner_id="bench",
            title="Honeybee colonies",
            brief="How a honeybee colony works, for curious teenagers.",
            settings=ProjectSettings(),
            sources=[SourceInput(id=1, role="material", kind="file", uri=str(path))],
        )
        baseline_mb = _peak_mb()
        started = time.perf_counter()
        sources = extract_sources(
            project, IngestLimits(max_bytes=FILE_LIMIT, file_root=str(uploads))
        )
        sources_seconds = time.perf_counter() - started
        research = run_research(sources, OfflineContent())
        total = time.perf_counter() - started
    return {
        "file_bytes": size,
        "sources_seconds": sources_seconds,
        "research_seconds": total - sources_seconds,
        "total_seconds": total,
        "key_facts": len(research.key_facts),
        "peak_mb": _peak_mb(),
        "peak_mb_before": baseline_mb,
    }


def run_child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "split":
            result = child_split(args.child[1], int(args.child[2]))
        else:
            result = child_stages()
        print(json.dumps(result))
        return
    runs = 1 if args.quick else 3
    print(f"sentence splitting of one paragraph, median of {runs} run(s):")
    for size in SPLIT_SIZES:
        whole, windowed = [], []
        for _ in range(runs):  # alternate, so load on the machine hits both alike
            whole.append(run_child("split", "whole", str(size))["seconds"])
            windowed.append(run_child("split", "windowed", str(size))["seconds"])
        before, after = statistics.median(whole), statistics.median(windowed)
        print(
            f"  {size:>9,} chars: whole paragraph {before:7.2f} s, windows {after:6.2f} s, "
            f"{before / after:5.1f}x faster"
        )
    stages = [run_child("stages") for _ in range(runs)]
    median = {key: statistics.median(r[key] for r in stages) for key in stages[0]}
    print(
        f"largest file source ({median['file_bytes'] / 1e6:.1f} MB, one paragraph) through "
        f"sources + research, median of {runs} run(s):\n"
        f"  sources {median['sources_seconds']:.1f} s, research {median['research_seconds']:.1f} s"
        f", total {median['total_seconds']:.1f} s, {median['key_facts']:.0f} key facts\n"
        f"  peak RSS {median['peak_mb']:.0f} MB (the process held {median['peak_mb_before']:.0f}"
        " MB before the stages ran)"
    )


if __name__ == "__main__":
    main()
