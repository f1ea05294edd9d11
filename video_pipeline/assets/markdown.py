"""Markdown previews of stage outputs for the Dagster UI's asset pages."""

from __future__ import annotations

from video_pipeline.models import Research, SafetyReport, Script


def research_markdown(research: Research) -> str:
    facts = "\n".join(
        f"- **{f.id}** {f.text} _(source {f.citation.source_id}, "
        f"chars {f.citation.start}–{f.citation.end})_"
        for f in research.key_facts
    )
    outline = "\n".join(f"{i}. {item}" for i, item in enumerate(research.outline, 1))
    questions = "\n".join(f"- {q}" for q in research.open_questions) or "- none"
    return (
        f"### Summary\n{research.summary}\n\n### Key facts\n{facts}\n\n"
        f"### Outline\n{outline}\n\n### Open questions\n{questions}\n"
    )


def script_markdown(script: Script) -> str:
    scenes = "\n\n".join(
        f"**{s.index}. {s.kind}** ({s.duration_seconds:.1f} s"
        + (f", facts {', '.join(s.fact_ids)}" if s.fact_ids else "")
        + f")  \n{s.narration}  \n_on screen:_ {s.on_screen_text}"
        + f"  \n_visual:_ {s.visual_description}"
        for s in script.scenes
    )
    return (
        f"## {script.title}\n\n**Hook:** {script.hook}\n\n{scenes}\n\n"
        f"**Call to action:** {script.call_to_action}\n\n"
        f"_{script.estimated_duration_seconds:.1f} s at {script.words_per_minute:.0f} wpm_"
    )


def safety_markdown(report: SafetyReport) -> str:
    rows = "\n".join(
        f"| {s.category} | {s.score:.3f} | {s.review_at:.2f} | {s.block_at:.2f} | "
        f"{', '.join(s.evidence[:3])} |"
        for s in report.scores
    )
    reasons = "\n".join(f"- {r}" for r in report.reasons) or "- none"
    return (
        f"**Decision: {report.decision}** ({report.scope})\n\n"
        "| category | score | review at | block at | evidence |\n|---|---|---|---|---|\n"
        f"{rows}\n\n**Reasons**\n{reasons}\n"
    )
