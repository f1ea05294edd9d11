"""The stages that read and write text: thin Dagster wrappers over `video_pipeline.stages`."""

from collections.abc import Iterator
from typing import Literal

import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    DataVersion,
    Failure,
    MetadataValue,
    Output,
)

from video_pipeline.assets.checks import problems_check
from video_pipeline.assets.markdown import research_markdown, safety_markdown, script_markdown
from video_pipeline.assets.stage_asset import stage_asset
from video_pipeline.assets.tracking import StageRun, tracked_stage
from video_pipeline.models import (
    DURATION_TOLERANCE,
    PACE_TOLERANCE,
    DnaProfile,
    EmbeddingsSummary,
    Research,
    SafetyReport,
    Script,
    Sources,
    max_facts,
)
from video_pipeline.resources import (
    DatabaseResource,
    IngestResource,
    ProvidersResource,
    StageLimitsResource,
)
from video_pipeline.stages.dna_profile import run_dna_profile
from video_pipeline.stages.embeddings import chunk_documents, summarise
from video_pipeline.stages.research import citation_problems, research_note, run_research
from video_pipeline.stages.safety import (
    SafetyPolicy,
    assess,
    cleared,
    input_texts,
    script_texts,
)
from video_pipeline.stages.script import grounding_problems, pacing_problems, run_script
from video_pipeline.stages.sources import extract_sources
from video_pipeline.storage.history import earlier_references
from video_pipeline.storage.ledger import Ledger
from video_pipeline.storage.projects import stage_approved
from video_pipeline.storage.stage_outputs import content_hash
from video_pipeline.storage.vectors import StoredChunk, replace_chunks

CONTENT = "content"


@stage_asset(
    group=CONTENT,
    kinds={"python", "postgres"},
    description="The project's sources (text, files, URLs) extracted to normalised text, "
    "each with its hash. Refuses missing files, unsupported types and unreachable URLs.",
    retry=False,
)
def sources(
    context: AssetExecutionContext,
    db: DatabaseResource,
    providers: ProvidersResource,
    ingest: IngestResource,
    stage_limits: StageLimitsResource,
) -> Output[Sources]:
    with tracked_stage(context, db.engine, providers, stage_limits, "sources") as run:
        result = extract_sources(run.project, ingest, speech=providers.kind)
    return Output(
        result,
        data_version=_version(result),
        metadata={
            "material_sources": len(result.by_role("material")),
            "reference_sources": len(result.by_role("reference")),
            "characters": sum(s.char_count for s in result.items),
            "sources": MetadataValue.md(
                "\n".join(
                    f"- `{s.source_id}` {s.role} {s.kind} {s.uri or '(inline)'}: "
                    f"{s.char_count} chars, sha256 `{s.sha256[:12]}`{research_note(s)}"
                    for s in result.items
                )
            ),
        },
    )


@stage_asset(
    group=CONTENT,
    kinds={"python", "postgres"},
    description="Summary, key facts citing the source span they come from, topics, outline "
    "and open questions, from the material sources the safety check cleared.",
    checks=[("citations_verified", True)],
)
def research(
    context: AssetExecutionContext,
    sources: Sources,
    safety_check: SafetyReport,
    db: DatabaseResource,
    providers: ProvidersResource,
    stage_limits: StageLimitsResource,
) -> Iterator[Output[Research] | AssetCheckResult]:
    with tracked_stage(context, db.engine, providers, stage_limits, "research") as run:
        _require_clearance(run, "research", safety_check, db.engine)
        most = max_facts(run.project.settings.duration_seconds)
        result = run_research(sources, run.providers().content, most)
        problems = citation_problems(result, sources, most)
    yield Output(
        result,
        data_version=_version(result),
        metadata={
            "key_facts": len(result.key_facts),
            "topics": ", ".join(result.topics),
            "preview": MetadataValue.md(research_markdown(result)),
            **run.usage.metadata(),
        },
    )
    yield problems_check(
        "citations_verified", problems, "every key fact's cited span contains its evidence"
    )
    if problems:
        _refuse(
            run.ledger, "research", "cited spans do not support the facts: " + "; ".join(problems)
        )


@stage_asset(
    group=CONTENT,
    kinds={"python", "postgres"},
    description="The creator's style fingerprint measured from the reference sources (or "
    "the owner's earlier projects) the safety check cleared: tone, energy, formality, "
    "pacing, vocabulary, hooks.",
)
def dna_profile(
    context: AssetExecutionContext,
    sources: Sources,
    safety_check: SafetyReport,
    db: DatabaseResource,
    providers: ProvidersResource,
    stage_limits: StageLimitsResource,
) -> Output[DnaProfile]:
    with tracked_stage(context, db.engine, providers, stage_limits, "dna_profile") as run:
        _require_clearance(run, "dna_profile", safety_check, db.engine)
        earlier = (
            earlier_references(db.engine, run.project.owner_id, run.project.id)
            if not sources.by_role("reference")
            else None
        )
        result = run_dna_profile(sources, run.providers().content, earlier)
    return Output(
        result,
        data_version=_version(result),
        metadata={
            "tone": result.tone,
            "words_per_minute": MetadataValue.float(round(result.words_per_minute, 1)),
            "energy": MetadataValue.float(round(result.energy, 2)),
            "formality": MetadataValue.float(round(result.formality, 2)),
            "signature_vocabulary": ", ".join(result.signature_vocabulary[:12]),
            "basis": result.basis,
            **run.usage.metadata(),
        },
    )


@stage_asset(
    group=CONTENT,
    kinds={"python", "postgres"},
    description="Per-category safety scores over the brief and every source (material and "
    "reference), and a decision: allow, review or block. It runs before any stage sends the "
    "content to a provider: a block or a review stops every stage after it.",
    checks=[("safety_allows", True)],
    code_version="2",
)
def safety_check(
    context: AssetExecutionContext,
    sources: Sources,
    db: DatabaseResource,
    providers: ProvidersResource,
    stage_limits: StageLimitsResource,
) -> Iterator[Output[SafetyReport] | AssetCheckResult]:
    with tracked_stage(context, db.engine, providers, stage_limits, "safety_check") as run:
        texts = input_texts(sources)
        moderation = run.providers().moderation
        report = assess(texts, moderation, SafetyPolicy(), scope="input")
    yield Output(
        report,
        data_version=_version(report),
        metadata={
            "decision": report.decision,
            "max_score": MetadataValue.float(max((s.score for s in report.scores), default=0.0)),
            "report": MetadataValue.md(safety_markdown(report)),
            **run.usage.metadata(),
        },
    )
    yield _safety_check_result("safety_allows", report)
    _apply_decision(run.ledger, "safety_check", report)


@stage_asset(
    group=CONTENT,
    kinds={"python", "postgres"},
    description="Hook, scenes (narration, on-screen text, visual, duration) and call to "
    "action, sized to the target duration at the DNA profile's pace, grounded in research.",
    checks=[("grounded", True), ("script_safe", True), ("paced", True)],
)
def script(
    context: AssetExecutionContext,
    research: Research,
    dna_profile: DnaProfile,
    safety_check: SafetyReport,
    db: DatabaseResource,
    providers: ProvidersResource,
    stage_limits: StageLimitsResource,
) -> Iterator[Output[Script] | AssetCheckResult]:
    with tracked_stage(context, db.engine, providers, stage_limits, "script") as run:
        _require_clearance(run, "script", safety_check, db.engine)
        stage_providers = run.providers()
        result = run_script(
            run.project.title,
            run.project.brief,
            research,
            dna_profile,
            run.project.settings,
            stage_providers.content,
        )
        grounding = grounding_problems(result, research)
        pacing = pacing_problems(result, dna_profile, run.project.settings)
        script_safety = assess(
            script_texts(result), stage_providers.moderation, SafetyPolicy(), scope="script"
        )
    yield Output(
        result,
        data_version=_version(result),
        metadata={
            "scenes": len(result.scenes),
            "estimated_seconds": MetadataValue.float(round(result.estimated_duration_seconds, 1)),
            "words_per_minute": MetadataValue.float(round(result.words_per_minute, 1)),
            "script": MetadataValue.md(script_markdown(result)),
            **run.usage.metadata(),
        },
    )
    yield problems_check(
        "grounded", grounding, "every factual sentence cites research facts that exist"
    )
    yield _safety_check_result("script_safe", script_safety)
    yield problems_check(
        "paced",
        pacing,
        f"duration within ±{DURATION_TOLERANCE:.0%} of target, "
        f"pace within ±{PACE_TOLERANCE:.0%} of the profile",
    )
    if grounding:
        _refuse(run.ledger, "script", "script is not grounded in research: " + "; ".join(grounding))
    elif pacing:
        _refuse(run.ledger, "script", "script does not fit the target: " + "; ".join(pacing))
    _apply_decision(run.ledger, "script", script_safety)


@stage_asset(
    group=CONTENT,
    kinds={"python", "postgres", "pgvector"},
    description="Sources, research and script cut into chunks and embedded into pgvector "
    "(`retrievable_text`), searchable per owner.",
)
def embeddings(
    context: AssetExecutionContext,
    sources: Sources,
    research: Research,
    script: Script,
    db: DatabaseResource,
    providers: ProvidersResource,
    stage_limits: StageLimitsResource,
) -> Output[EmbeddingsSummary]:
    with tracked_stage(context, db.engine, providers, stage_limits, "embeddings") as run:
        embedder = run.providers().embeddings
        chunks = chunk_documents(sources, research, script)
        vectors = embedder.embed([c.text for c in chunks])
        replace_chunks(
            db.engine,
            run.project.id,
            run.project.owner_id,
            embedder.model,
            embedder.dimension,
            [
                StoredChunk(c.kind, c.ref, c.ordinal, c.text, vector)
                for c, vector in zip(chunks, vectors, strict=True)
            ],
            run.project.settings.language,
        )
        result = summarise(chunks, embedder)
    return Output(
        result,
        data_version=_version(result),
        metadata={
            "chunks": len(chunks),
            "model": result.model,
            "dimension": result.dimension,
            **{f"chunks_{kind}": count for kind, count in result.chunks_by_kind.items()},
            **run.usage.metadata(),
        },
    )


def _version(
    value: Sources | Research | DnaProfile | SafetyReport | Script | EmbeddingsSummary,
) -> DataVersion:
    return DataVersion(content_hash(value))


def _safety_check_result(name: str, report: SafetyReport) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=name,
        passed=report.decision == "allow",
        severity=AssetCheckSeverity.ERROR,
        description=f"decision: {report.decision}"
        + (f" — {'; '.join(report.reasons)}" if report.reasons else ""),
        metadata={s.category: MetadataValue.float(round(s.score, 3)) for s in report.scores},
    )


def _apply_decision(ledger: Ledger, stage: str, report: SafetyReport) -> None:
    """A block or review stops the project visibly; the failed blocking check stops the run."""
    if report.decision == "allow":
        return
    status: Literal["blocked", "needs_review"] = (
        "blocked" if report.decision == "block" else "needs_review"
    )
    reasons = "; ".join(report.reasons) or "no reason given"
    ledger.move(status, f"{stage}: {reasons}", stage=stage, stage_state=status)


def _require_clearance(run: StageRun, stage: str, report: SafetyReport, engine: sa.Engine) -> None:
    """Stop `stage` before any provider sees the content unless the input check allowed it
    (or a person approved its review).

    In a `make_video` run the failed `safety_allows` check already keeps the stages after
    safety_check from starting; this holds when one of them is materialized on its own, and
    it leaves the project `blocked` (or `needs_review`), never `failed`.
    """
    approved = report.decision == "review" and stage_approved(
        engine, run.project.id, "safety_check"
    )
    if cleared(report, approved=approved):
        return
    status: Literal["blocked", "needs_review"] = (
        "blocked" if report.decision == "block" else "needs_review"
    )
    waiting = "" if report.decision == "block" else ", and no one approved it yet"
    reasons = "; ".join(report.reasons) or "no reason given"
    message = f"not started: the safety decision is '{report.decision}'{waiting}: {reasons}"
    run.ledger.move(status, f"{stage}: {message}", stage=stage, stage_state=status)
    raise Failure(
        description=f"{stage}: {message}",
        metadata={"project_id": run.project.id, "decision": report.decision},
        allow_retries=False,
    )


def _refuse(ledger: Ledger, stage: str, reason: str) -> None:
    ledger.move("failed", f"{stage}: {reason}", stage=stage, stage_state="failed")
