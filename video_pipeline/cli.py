"""The `video-pipeline` command: services, projects, search, the demo and the dev stack."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from video_pipeline.settings import Settings, load_settings

app = typer.Typer(help="Turn video projects into narrated, subtitled videos.", no_args_is_help=True)
services_app = typer.Typer(help="The embedded Postgres and S3 servers.", no_args_is_help=True)
project_app = typer.Typer(help="Create and inspect projects.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(project_app, name="project")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _engine(settings: Settings) -> Any:
    from video_pipeline.storage.db import engine_for

    try:
        return engine_for(settings.require_database_url())
    except RuntimeError as exc:
        raise _fail(str(exc)) from exc


# --------------------------------------------------------------------------- services


@services_app.command("up")
def services_up_command() -> None:
    """Start the embedded Postgres (pgvector) and S3 servers and apply migrations."""
    from video_pipeline.devstack.stack import start_stack

    state = start_stack(load_settings())
    typer.echo(f"postgres: unix socket in {state.pg_socket_dir}")
    typer.echo(f"s3:       {state.s3_url} (bucket {state.bucket})")
    typer.echo('run `eval "$(video-pipeline services env)"` to use them from this shell')


@services_app.command("down")
def services_down_command() -> None:
    """Stop the embedded servers (their data stays under the data folder)."""
    from video_pipeline.devstack.embedded import services_down

    stopped = services_down(load_settings().resolved_data_dir)
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@services_app.command("status")
def services_status_command(as_json: JsonFlag = False) -> None:
    """Whether each embedded server runs."""
    from video_pipeline.devstack.embedded import services_status

    status = services_status(load_settings().resolved_data_dir)
    if as_json:
        typer.echo(json.dumps(status))
        return
    for name, running in status.items():
        typer.echo(f"{name}: {'running' if running else 'stopped'}")
    if not all(status.values()):
        raise typer.Exit(code=1)


@services_app.command("env")
def services_env_command(as_json: JsonFlag = False) -> None:
    """Print the variables a shell needs: eval "$(video-pipeline services env)"."""
    from video_pipeline.devstack.embedded import dump_env_json, read_state, shell_exports

    settings = load_settings()
    state = read_state(settings.resolved_data_dir)
    if state is None:
        raise _fail("the embedded services were never started: run `video-pipeline services up`")
    env = state.environment(settings.resolved_data_dir)
    typer.echo(dump_env_json(env) if as_json else shell_exports(env))


@app.command("settings")
def settings_command() -> None:
    """Every setting: its environment variable, default and meaning (the README's table)."""
    from video_pipeline.settings import settings_table

    typer.echo(settings_table())


@app.command("migrate")
def migrate_command(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the database migrations (alembic upgrade)."""
    from video_pipeline.storage.migrate import upgrade

    upgrade(load_settings().require_database_url(), revision)
    typer.echo(f"database at {revision}")


# --------------------------------------------------------------------------- projects


@project_app.command("create")
def project_create(
    title: Annotated[str, typer.Option(help="The video's title.")],
    brief: Annotated[str, typer.Option(help="What the video should say and for whom.")],
    source: Annotated[
        list[str] | None,
        typer.Option(help="Material: a file path, an http(s) URL, or @inline text. Repeatable."),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(help="Your earlier scripts or transcripts (same forms). Repeatable."),
    ] = None,
    music: Annotated[
        str | None,
        typer.Option(help="Background music: a local audio file, ducked under the voice."),
    ] = None,
    owner: Annotated[str, typer.Option(help="Owner id; search is scoped to it.")] = "local",
    aspect: Annotated[str, typer.Option(help="9:16, 16:9 or 1:1.")] = "9:16",
    duration: Annotated[float, typer.Option(help="Target length in seconds.")] = 30.0,
    resolution: Annotated[str, typer.Option(help="720p or 1080p.")] = "720p",
    motion: Annotated[
        str, typer.Option(help="Camera over each scene's picture: none, zoom or pan.")
    ] = "none",
    crossfade: Annotated[
        float, typer.Option(help="Seconds each scene blends into the next (0 cuts, max 1.5).")
    ] = 0.0,
    as_json: JsonFlag = False,
) -> None:
    """Validate and insert a project; the intake sensor launches its run."""
    from pydantic import ValidationError

    from video_pipeline.project_request import ProjectRequest, music_source, source_from_argument
    from video_pipeline.storage.projects import create_project

    try:
        request = ProjectRequest.model_validate(
            {
                "owner_id": owner,
                "title": title,
                "brief": brief,
                "settings": {
                    "aspect": aspect,
                    "duration_seconds": duration,
                    "resolution": resolution,
                    "camera_motion": motion,
                    "crossfade_seconds": crossfade,
                },
                "sources": [source_from_argument(a, "material") for a in source or []]
                + [source_from_argument(a, "reference") for a in reference or []]
                + ([music_source(music)] if music else []),
            }
        )
    except (ValidationError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    project_id = create_project(
        _engine(load_settings()),
        owner_id=request.owner_id,
        title=request.title,
        brief=request.brief,
        settings=request.settings,
        sources=request.sources,
    )
    typer.echo(json.dumps({"id": project_id}) if as_json else project_id)


@project_app.command("list")
def project_list(
    owner: Annotated[str | None, typer.Option(help="Only this owner's projects.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Projects, newest first, with their status."""
    from video_pipeline.storage.projects import list_projects

    rows = list_projects(_engine(load_settings()), owner)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        detail = f" — {row['status_detail']}" if row["status_detail"] else ""
        typer.echo(f"{row['id']}  {row['status']:<12} {row['title']}{detail}")


@project_app.command("show")
def project_show(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Status, per-stage state, error text and the video's URI."""
    from video_pipeline.storage.projects import is_project_id, project_overview

    if not is_project_id(project_id):
        raise _fail(f"'{project_id}' is not a project id")
    overview = project_overview(_engine(load_settings()), project_id)
    if overview is None:
        raise _fail(f"no project {project_id}")
    if as_json:
        typer.echo(json.dumps(overview, indent=2))
        return
    typer.echo(f"{overview['title']} ({overview['id']}, owner {overview['owner_id']})")
    typer.echo(
        f"status: {overview['status']}"
        + (f" — {overview['status_detail']}" if overview["status_detail"] else "")
    )
    for stage, state in overview["stages"].items():
        detail = f" — {state['detail']}" if state["detail"] else ""
        typer.echo(f"  {stage:<13} {state['state']}{detail}")
    if overview["video_uri"]:
        typer.echo(f"video: {overview['video_uri']} ({overview['duration_seconds']:.1f} s)")


# --------------------------------------------------------------------------- search


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    owner: Annotated[str, typer.Option(help="Whose chunks to search (required).")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many hits.")] = 5,
    mode: Annotated[
        str,
        typer.Option(help="hybrid (full text and vectors, fused), vector, or text."),
    ] = "hybrid",
    language: Annotated[
        str, typer.Option(help="Language of the query, as in the projects (en, de, fr, ...).")
    ] = "en",
    as_json: JsonFlag = False,
) -> None:
    """Search one owner's chunks (sources, research, scripts) by meaning and by exact words."""
    from video_pipeline.providers.registry import build_embedder
    from video_pipeline.storage.search import SearchMode, search_chunks
    from video_pipeline.storage.vectors import owner_models

    try:
        search_mode = SearchMode(mode)
    except ValueError as exc:
        raise _fail(f"--mode must be one of {', '.join(SearchMode)}, not {mode!r}") from exc
    settings = load_settings()
    engine = _engine(settings)
    embedder = build_embedder(settings.providers)
    embedding = None if search_mode is SearchMode.text else embedder.embed([query])[0]
    hits = search_chunks(
        engine, owner, embedder.model, query, embedding, search_mode, language, limit
    )
    stale = {m: n for m, n in owner_models(engine, owner).items() if m != embedder.model}
    for model, count in stale.items():
        typer.secho(
            f"note: {count} chunks of this owner are embedded with {model}, not "
            f"{embedder.model}, and are not searched: run "
            f"`video-pipeline reembed --owner {shlex.quote(owner)}`",
            fg=typer.colors.YELLOW,
            err=True,
        )
    if as_json:
        typer.echo(json.dumps([hit.__dict__ for hit in hits], indent=2))
        return
    for hit in hits:
        text = " ".join(hit.content.split())
        typer.echo(f"{hit.score:.3f}  {hit.project_id[:8]} {hit.ref:<12} {text[:100]}")


@app.command("reembed")
def reembed_command(
    owner: Annotated[
        str | None, typer.Option(help="Only this owner's chunks (default: every owner).")
    ] = None,
) -> None:
    """Re-embed chunks stored with another model than the configured one."""
    from video_pipeline.providers.registry import build_embedder
    from video_pipeline.storage.reembed import reembed

    settings = load_settings()
    embedder = build_embedder(settings.providers)
    count = reembed(
        _engine(settings),
        embedder,
        owner,
        progress=lambda done, projects: typer.echo(f"{done} chunks ({projects} projects)"),
    )
    typer.echo(f"re-embedded {count} chunks with {embedder.model} ({embedder.dimension}-d)")


# --------------------------------------------------------------------------- demo and dev


@app.command("demo")
def demo_command(
    out_dir: Annotated[Path, typer.Option(help="Where the local copy of the video goes.")] = Path(
        "out"
    ),
) -> None:
    """Start the services, create the demo project and render it in a real Dagster run."""
    from video_pipeline.devstack.stack import run_demo

    result = run_demo(load_settings(), out_dir)
    typer.echo(f"project: {result.project_id}")
    typer.echo(f"video:   {result.video_uri}")
    typer.echo(f"local:   {result.local_path}")


@app.command("dev")
def dev_command(
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
) -> None:
    """Services, migrations, a demo project and `dagster dev`; Ctrl-C stops everything."""
    from video_pipeline.devstack.stack import run_dev

    raise typer.Exit(code=run_dev(load_settings(), port))


def _review(project_id: str, approve: bool, note: str) -> None:
    from video_pipeline.storage.projects import is_project_id, review_project

    if not is_project_id(project_id):
        raise _fail(f"'{project_id}' is not a project id")
    try:
        stage = review_project(_engine(load_settings()), project_id, approve=approve, note=note)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if approve:
        typer.echo(f"approved {stage}; the stages after it resume on the next sensor tick")
    else:
        typer.echo(f"rejected at {stage}; the project will not be rendered")


@project_app.command("approve")
def project_approve(
    project_id: Annotated[str, typer.Argument(help="A project in needs_review.")],
    note: Annotated[str, typer.Option(help="Why it is fine.")] = "approved by a reviewer",
) -> None:
    """Approve a project that waits for review; it resumes without re-running finished stages."""
    _review(project_id, True, note)


@project_app.command("reject")
def project_reject(
    project_id: Annotated[str, typer.Argument(help="A project in needs_review.")],
    note: Annotated[str, typer.Option(help="Why it is refused.")] = "rejected by a reviewer",
) -> None:
    """Reject a project that waits for review; it stops for good."""
    _review(project_id, False, note)
