"""The `video-pipeline` command: services, projects, search, the demo and the dev stack."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from video_pipeline.settings import Settings, load_settings

app: typer.Typer = typer.Typer(
    help="Turn video projects into narrated, subtitled videos.", no_args_is_help=True
)
services_app = typer.Typer(help="The embedded Postgres and S3 servers.", no_args_is_help=True)
project_app: typer.Typer = typer.Typer(help="Create and inspect projects.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(project_app, name="project")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _database_url(settings: Settings) -> str:
    try:
        return settings.require_database_url()
    except RuntimeError as exc:
        raise _fail(str(exc)) from exc


def _engine(settings: Settings) -> Any:
    from video_pipeline.storage.db import engine_for

    return engine_for(_database_url(settings))


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


def files_readable(settings: Settings) -> str:
    """Where file sources may be read from, as `services status` shows it."""
    if settings.ingest.allow_all_files:
        return "any file of the server (VIDEO_PIPELINE_ALLOW_ALL_FILES)"
    return str(settings.upload_root)


@services_app.command("status")
def services_status_command(as_json: JsonFlag = False) -> None:
    """Whether each embedded server runs, and where file sources may be read from."""
    from video_pipeline.devstack.embedded import services_status

    settings = load_settings()
    status = services_status(settings.resolved_data_dir)
    if as_json:
        typer.echo(json.dumps({**status, "file_root": files_readable(settings)}))
        return
    for name, running in status.items():
        typer.echo(f"{name}: {'running' if running else 'stopped'}")
    typer.echo(f"file sources: {files_readable(settings)}")
    if settings.ingest.allow_all_files:
        typer.secho(
            "warning: VIDEO_PIPELINE_ALLOW_ALL_FILES is on: a project's file source can name "
            "any file this server can read; turn it off on a shared platform",
            fg=typer.colors.YELLOW,
            err=True,
        )
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
    """Apply the database migrations (alembic upgrade) and, where DAGSTER_HOME is set,
    prepare Dagster's concurrency pools."""
    from alembic.util import CommandError

    from video_pipeline.storage.migrate import upgrade

    try:
        upgrade(_database_url(load_settings()), revision)
    except CommandError as exc:
        raise _fail(f"{exc}; give a revision `alembic history` lists, or none for head") from exc
    typer.echo(f"database at {revision}")
    if os.environ.get("DAGSTER_HOME"):
        from dagster import DagsterInstance

        from video_pipeline.queues import POOLS, initialize_pools

        with DagsterInstance.get() as instance:
            initialize_pools(instance)
        typer.echo("dagster pools ready: " + ", ".join(POOLS))


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
    language: Annotated[str, typer.Option(help="Language of the material and narration.")] = "en",
    voice: Annotated[
        str | None,
        typer.Option(help="An espeak-ng voice of the language (default: its usual voice)."),
    ] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="Receives the project's signed status events.")
    ] = None,
    estimate: Annotated[
        bool, typer.Option("--estimate", help="Also print and store the expected cost.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Validate and insert a project; the intake sensor launches its run.

    Local files are copied into the uploads folder, where the pipeline reads them."""
    from video_pipeline.errors import PipelineInputError
    from video_pipeline.project_request import project_request, source_from_argument
    from video_pipeline.stages.validation import RawProject
    from video_pipeline.storage.projects import create_project

    settings = load_settings()
    try:
        project = project_request(
            RawProject(
                id="new",
                owner_id=owner,
                title=title,
                brief=brief,
                settings={
                    "aspect": aspect,
                    "duration_seconds": duration,
                    "resolution": resolution,
                    "camera_motion": motion,
                    "crossfade_seconds": crossfade,
                    "language": language,
                    **({"voice": voice} if voice else {}),
                    **({"webhook_url": webhook_url} if webhook_url else {}),
                },
                sources=[source_from_argument(a, "material") for a in source or []]
                + [source_from_argument(a, "reference") for a in reference or []]
                + ([source_from_argument(music, "music")] if music else []),
            ),
            settings.upload_root,
            speech=settings.providers.kind,
        )
    except (PipelineInputError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    project_id = create_project(
        _engine(settings),
        owner_id=project.owner_id,
        title=project.title,
        brief=project.brief,
        settings=project.settings,
        sources=project.sources,
    )
    estimated = store_estimate(project_id) if estimate else None
    if as_json:
        extra = {"estimate": estimated.model_dump()} if estimated else {}
        typer.echo(json.dumps({"id": project_id, **extra}))
        return
    typer.echo(project_id)
    if estimated:
        print_estimate(estimated, as_json=False)


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
    show_history(project_id, overview)
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
    elif overview["rejected_video_uri"]:
        typer.echo(
            f"video that failed its check (kept to look at): {overview['rejected_video_uri']}"
        )
    print_history(overview)


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


@project_app.command("rerun")
def project_rerun(
    project_id: Annotated[str, typer.Argument(help="A project that ended (done, failed, ...).")],
) -> None:
    """Run an ended project again, bringing back its Dagster partition if it was archived."""
    from video_pipeline.storage.partitions import RerunRefused, request_rerun
    from video_pipeline.storage.projects import is_project_id

    if not is_project_id(project_id):
        raise _fail(f"'{project_id}' is not a project id")
    try:
        number = request_rerun(_engine(load_settings()), project_id)
    except RerunRefused as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"rerun {number} requested; the intake sensor starts it on its next tick")


@project_app.command("cancel")
def project_cancel(
    project_id: Annotated[str, typer.Argument(help="A project that has not ended.")],
    by: Annotated[
        str | None, typer.Option(help="Who cancels, recorded in the status (default: you).")
    ] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the project to be canceled; 0: don't.")
    ] = 30.0,
) -> None:
    """Stop a project: mark it canceled and end its runs (through the Dagster instance in
    DAGSTER_HOME; without one, the daemon's `project_cancel_requests` sensor does it)."""
    import getpass
    import time

    from video_pipeline.storage.cancel import CancelRefused, request_cancel
    from video_pipeline.storage.ledger import TERMINAL
    from video_pipeline.storage.projects import is_project_id, project_status

    if not is_project_id(project_id):
        raise _fail(f"'{project_id}' is not a project id")
    engine = _engine(load_settings())
    try:
        status, request = request_cancel(engine, project_id, by or f"cli:{getpass.getuser()}")
    except CancelRefused as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"cancel requested for project {project_id} ({status})")
    if os.environ.get("DAGSTER_HOME"):
        from dagster import DagsterInstance

        from video_pipeline.cancellation import carry_out

        with DagsterInstance.get() as instance:
            runs = carry_out(engine, instance, request)
        typer.echo("runs stopped: " + (", ".join(runs) if runs else "none"))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = project_status(engine, project_id)
        if found is None:
            raise _fail(f"project {project_id} no longer exists (it was deleted)")
        current, detail = found
        if current == "canceled":
            typer.echo(f"canceled: {detail}")
            return
        if current in TERMINAL:
            raise _fail(f"the project ended '{current}' before the cancel took effect: {detail}")
        time.sleep(0.5)
    if wait:
        raise _fail(
            f"not canceled within {wait:g} s: is the Dagster daemon running? The request "
            "stays recorded and is carried out when it runs"
        )


# --------------------------------------------------------------------------- workers


@app.command("worker")
def worker_command(
    queue: Annotated[
        list[str],
        typer.Option(help="Queue to take steps from: content or render. Repeatable."),
    ],
    concurrency: Annotated[
        int, typer.Option(min=1, help="Steps this worker runs at once (processes).")
    ] = 1,
    name: Annotated[
        str | None, typer.Option(help="Worker name (default: the queues and a random suffix).")
    ] = None,
) -> None:
    """A Celery worker executing steps of VIDEO_PIPELINE_EXECUTOR=celery runs; needs the
    same settings as the code location (Postgres, S3, DAGSTER_PG_URL, the broker)."""
    from video_pipeline.distributed import BrokerNotConfigured, celery_app, worker_argv

    settings = load_settings()
    try:
        argv = worker_argv(queue, concurrency, name)
        worker_app = celery_app(settings.execution)
    except (ValueError, BrokerNotConfigured) as exc:
        raise _fail(str(exc)) from exc
    # Load the code location once, before the pool forks: each step then starts at once.
    from video_pipeline.definitions import defs

    defs()

    worker_app.worker_main(argv)


# The platform commands (serve, doctor, delete, owner, estimate) register themselves on `app`.
from video_pipeline.cli_platform import (  # noqa: E402
    print_estimate,
    print_history,
    show_history,
    store_estimate,
)
