"""Which index for one large owner: per-owner HNSW (ef_search 100/200/400) or IVFFlat (1,000,
500 or 250 rows per list; probes 4/8/16).

Loads the largest owner of the 1M-chunk corpus of `benchmarks/search.py` (65,141 chunks, same
generator and seed, vectors only) into a fresh embedded Postgres, draws 300 queries from its
documents, and reports recall@10 against exact search and on-CPU time per query; also the
ingestion rate of the write path without text analysis (the texts are one word).

    .venv/bin/python benchmarks/search_owner_index.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search import MODEL, Corpus, CpuMeter, insert_projects, start_database

from video_pipeline.devstack.postgres import stop_postgres
from video_pipeline.storage.vectors import (
    ProjectChunks,
    StoredChunk,
    replace_projects,
    vector_literal,
)

QUERY = (
    "SELECT id FROM retrievable_text WHERE owner_id = :o AND model = :m AND dimension = 384 "
    "ORDER BY (embedding::vector(384)) <=> CAST(:q AS vector(384)) LIMIT 10"
)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-owner-index-"))
    try:
        engine = start_database(folder, "1GB")
        corpus = Corpus(1_000_000, 1000, 7)
        owner = corpus.owners[0]
        vectors, _, cuts = corpus.owner_rows(owner)
        projects = insert_projects(engine, owner.name, len(cuts) - 1)
        meter = CpuMeter(engine)
        client_0, server_0 = meter.read()
        started = time.perf_counter()
        replace_projects(
            engine,
            [
                ProjectChunks(
                    project,
                    owner.name,
                    MODEL,
                    384,
                    [StoredChunk("source", f"s:{i}", i, "x", ()) for i in range(start, end)],
                    "simple",
                    vectors[start:end],
                )
                for project, start, end in zip(projects, cuts, cuts[1:], strict=False)
            ],
            maintain_indexes=False,
        )
        seconds = time.perf_counter() - started
        client_1, server_1 = meter.read()
        # The texts are one word, so this is the write path without the text analysis.
        print(
            json.dumps(
                {
                    "ingest_rows": owner.size,
                    "rows_per_second": owner.size / seconds,
                    "client_cpu_us_per_row": (client_1 - client_0) / owner.size * 1e6,
                    "server_cpu_us_per_row": (server_1 - server_0) / owner.size * 1e6,
                }
            ),
            flush=True,
        )
        with engine.connect() as conn:
            ids = np.array(
                conn.execute(sa.text("SELECT id FROM retrievable_text ORDER BY id")).scalars().all()
            )
        queries = [corpus.query(owner)[0] for _ in range(300)]
        truths = [
            set(ids[np.argsort(-(vectors @ q), kind="stable")[:10]].tolist()) for q in queries
        ]
        meter = CpuMeter(engine)

        def measure(setting: str) -> dict[str, object]:
            recalls, cpu = [], []
            for query, truth in zip(queries, truths, strict=True):
                client_0, server_0 = meter.read()
                with engine.begin() as conn:
                    conn.execute(sa.text(setting))
                    got = set(
                        conn.execute(
                            sa.text(QUERY),
                            {"o": owner.name, "m": MODEL, "q": vector_literal(query)},
                        ).scalars()
                    )
                client_1, server_1 = meter.read()
                cpu.append(client_1 - client_0 + server_1 - server_0)
                recalls.append(len(got & truth) / 10)
            result = {
                "setting": setting,
                "recall_mean": float(np.mean(recalls)),
                "recall_worst": float(np.min(recalls)),
                "queries_below_0.9": int(np.sum(np.array(recalls) < 0.9)),
                "cpu_p50_ms": float(np.median(cpu) * 1000),
                "cpu_p95_ms": float(np.percentile(cpu, 95) * 1000),
            }
            print(json.dumps(result), flush=True)
            return result

        predicate = f"WHERE owner_id = '{owner.name}' AND model = '{MODEL}' AND dimension = 384"
        for method, settings in (
            ("hnsw", [f"SET LOCAL hnsw.ef_search = {ef}" for ef in (100, 200, 400)]),
            *(
                (
                    f"ivfflat WITH (lists = {lists})",
                    [f"SET LOCAL ivfflat.probes = {p}" for p in (4, 8, 16)],
                )
                # 1,000, 500 and 250 rows per list
                for lists in (65, 130, 260)
            ),
        ):
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("DROP INDEX IF EXISTS owner_index"))
                conn.execute(sa.text("SET maintenance_work_mem = '512MB'"))
                started = time.perf_counter()
                using, _, options = method.partition(" ")
                conn.execute(
                    sa.text(
                        f"CREATE INDEX owner_index ON retrievable_text USING {using} "
                        f"((embedding::vector(384)) vector_cosine_ops) {options} {predicate}"
                    )
                )
                print(json.dumps({"index": method, "build_s": time.perf_counter() - started}))
                conn.execute(sa.text("ANALYZE retrievable_text"))
            for setting in settings:
                measure(setting)
        engine.dispose()
    finally:
        stop_postgres(folder / "pg")
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
