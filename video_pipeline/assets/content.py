"""The stages that read and write text: thin Dagster wrappers over `video_pipeline.stages`."""

from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    DataVersion,
    MetadataValue,
    Output,
)

from video_pipeline.assets.common import stage_asset
from video_pipeline.assets.markdown import research_markdown, safety_markdown, script_markdown
from video_pipeline.assets.tracking import tracked_stage
from video_pipeline.errors import PipelineInputError
from video_pipeline.models import (
    DnaProfile,
    EmbeddingsSummary,
    ProjectStatus,
    Research,
    SafetyReport,
    Script,
    Sources,
)
from video_pipeline.resources import DatabaseResource, PipelineConfig
from video_pipeline.stages.dna_profile import run_dna_profile
from video_pipeline.stages.embeddings import chunk_documents
from video_pipeline.stages.research import citation_problems, research_note, run_research
from video_pipeline.stages.safety import SafetyPolicy, assess, input_texts, script_texts
from video_pipeline.stages.script import grounding_problems, pacing_problems, run_script
from video_pipeline.stages.sources import IngestLimits, extract_sources
from video_pipeline.storage.history import earlier_references
from video_pipeline.storage.projects import (
    set_stage_state,
    set_status,
    stage_approved,
)
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
    context: AssetExecutionContext, db: DatabaseResource, pipeline: PipelineConfig
) -> Output[Sources]:
    with tracked_stage(context, db.engine, pipeline, "sources") as run:
        limits = IngestLimits(
            max_bytes=pipeline.max_source_bytes,
            timeout_seconds=pipeline.fetch_timeout_seconds,
            allow_loopback=pipeline.allow_loopback_urls,
            file_root=None
            if pipeline.allow_all_files or not pipeline.file_root
            else Path(pipeline.file_root),
            speech="openai" if pipeline.provider == "openai" else "offline",
        )
        result = extract_sources(run.project, limits)
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
    "and open questions, from the material sources.",
    checks=[("citations_verified", True)],
)
def research(
    context: AssetExecutionContext,
    sources: Sources,
    db: DatabaseResource,
    pipeline: PipelineConfig,
) -> Iterator[Output[Research] | AssetCheckResult]:
    with tracked_stage(context, db.engine, pipeline, "research") as run:
        result = run_research(sources, run.providers().content)
        problems = citation_problems(result, sources)
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
    yield AssetCheckResult(
        check_name="citations_verified",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="every key fact's cited span contains its evidence"
        if not problems
        else "; ".join(problems),
        metadata={"problems": len(problems)},
    )
    if problems:
        _refuse(
            context, db, "research", "cited spans do not support the facts: " + "; ".join(problems)
        )


@stage_asset(
    group=CONTENT,
    kinds={"python", "postgres"},
    description="The creator's style fingerprint measured from the reference sources (or "
    "the owner's earlier projects): tone, energy, formality, pacing, vocabulary, hooks.",
)
def dna_profile(
    context: AssetExecutionContext,
    sources: Sources,
    db: DatabaseResource,
    pipeline: PipelineConfig,
) -> Output[DnaProfile]:
    with tracked_stage(context, db.engine, pipeline, "dna_profile") as run:
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
    description="Per-category safety scores over the brief, sources and research, and a "
    "decision: allow, review or block. A block stops script and render.",
    checks=[("safety_allows", True)],
)
def safety_check(
    context: AssetExecutionContext,
    sources: Sources,
    research: Research,
    db: DatabaseResource,
    pipeline: PipelineConfig,
) -> Iterator[Output[SafetyReport] | AssetCheckResult]:
    with tracked_stage(context, db.engine, pipeline, "safety_check") as run:
        texts = input_texts(sources, research)
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
    _apply_decision(context, db, "safety_check", report)


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
    pipeline: PipelineConfig,
) -> Iterator[Output[Script] | AssetCheckResult]:
    with tracked_stage(context, db.engine, pipeline, "script") as run:
        approved = safety_check.decision == "review" and stage_approved(
            db.engine, run.project.id, "safety_check"
        )
        if safety_check.decision != "allow" and not approved:
            raise PipelineInputError(
                f"safety decision is '{safety_check.decision}': " + "; ".join(safety_check.reasons)
            )
        providers = run.providers()
        result = run_script(
            run.project.title,
            run.project.brief,
            research,
            dna_profile,
            run.project.settings,
            providers.content,
        )
        grounding = grounding_problems(result, research)
        pacing = pacing_problems(result, dna_profile, run.project.settings)
        script_safety = assess(
            script_texts(result), providers.moderation, SafetyPolicy(), scope="script"
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
    yield AssetCheckResult(
        check_name="grounded",
        passed=not grounding,
        severity=AssetCheckSeverity.ERROR,
        description="every factual sentence cites research facts that exist"
        if not grounding
        else "; ".join(grounding),
    )
    yield _safety_check_result("script_safe", script_safety)
    yield AssetCheckResult(
        check_name="paced",
        passed=not pacing,
        severity=AssetCheckSeverity.ERROR,
        description="duration within ±10% of target, pace within ±15% of the profile"
        if not pacing
        else "; ".join(pacing),
    )
    if grounding:
        _refuse(
            context, db, "script", "script is not grounded in research: " + "; ".join(grounding)
        )
    elif pacing:
        _refuse(context, db, "script", "script does not fit the target: " + "; ".join(pacing))
    _apply_decision(context, db, "script", script_safety)


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
    pipeline: PipelineConfig,
) -> Output[EmbeddingsSummary]:
    with tracked_stage(context, db.engine, pipeline, "embeddings") as run:
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
        )
        by_kind: dict[str, int] = {}
        for chunk in chunks:
            by_kind[chunk.kind] = by_kind.get(chunk.kind, 0) + 1
        result = EmbeddingsSummary(
            model=embedder.model,
            dimension=embedder.dimension,
            chunk_count=len(chunks),
            chunks_by_kind=by_kind,
            provider=embedder.name,
        )
    return Output(
        result,
        data_version=_version(result),
        metadata={
            "chunks": len(chunks),
            "model": result.model,
            "dimension": result.dimension,
            **{f"chunks_{kind}": count for kind, count in by_kind.items()},
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


def _apply_decision(
    context: AssetExecutionContext, db: DatabaseResource, stage: str, report: SafetyReport
) -> None:
    """A block or review stops the project visibly; the failed blocking check stops the run."""
    if report.decision == "allow":
        return
    status: ProjectStatus = "blocked" if report.decision == "block" else "needs_review"
    reasons = "; ".join(report.reasons) or "no reason given"
    set_stage_state(db.engine, context.partition_key, stage, status, reasons, context.run_id)
    set_status(db.engine, context.partition_key, status, f"{stage}: {reasons}")


def _refuse(context: AssetExecutionContext, db: DatabaseResource, stage: str, reason: str) -> None:
    set_stage_state(db.engine, context.partition_key, stage, "failed", reason, context.run_id)
    set_status(db.engine, context.partition_key, "failed", f"{stage}: {reason}")
