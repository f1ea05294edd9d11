"""The platform commands of `video-pipeline`: serve, doctor, deletion, owners, estimates."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from video_pipeline.cli import JsonFlag, _database_url, _engine, _fail, app, project_app
from video_pipeline.settings import load_settings

if TYPE_CHECKING:
    from video_pipeline.estimate import CostEstimate

owner_app = typer.Typer(
    help="Per-owner settings (webhook, quotas) and deletion.", no_args_is_help=True
)
app.add_typer(owner_app, name="owner")


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Address to bind (default: settings).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default: settings, 9100).")
    ] = None,
) -> None:
    """Prometheus /metrics, /health and /ready on one HTTP server."""
    from video_pipeline.serve import make_metrics_server

    settings = load_settings()
    host, port = host or settings.platform.metrics_host, port or settings.platform.metrics_port
    _database_url(settings)
    try:
        server = make_metrics_server(settings, host, port)
    except OSError as exc:
        raise _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    address, bound = server.server_address[:2]
    typer.echo(f"metrics on http://{address!s}:{bound}/metrics (also /health, /ready)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command("doctor")
def doctor_command(as_json: JsonFlag = False) -> None:
    """Check every dependency; prints a fix for each failure, exits 1 when any fails."""
    from video_pipeline.doctor import format_table, run_checks

    checks = run_checks(load_settings())
    if as_json:
        typer.echo(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        typer.echo(format_table(checks))
    if any(c.outcome == "fail" for c in checks):
        raise typer.Exit(code=1)


# --------------------------------------------------------------------------- deletion


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"deleted {len(report['projects'])} project(s): {', '.join(report['projects'])}")
    rows = ", ".join(f"{name} {count}" for name, count in report["rows"].items() if count)
    typer.echo(f"  rows: {rows or 'none'}")
    typer.echo(f"  s3 objects: {report['s3_objects']}")
    typer.echo(
        f"  dagster: {report['dagster_runs']} run(s) with their event logs, "
        f"{report['dagster_partitions']} partition(s)"
    )


def _delete(action: str, target: str, as_json: bool) -> None:
    from dagster import DagsterInstance

    from video_pipeline.deletion import DeletionRefused, delete_owner, delete_projects

    settings = load_settings()
    engine, store = _engine(settings), settings.object_store
    with DagsterInstance.get() as instance:
        try:
            if action == "owner":
                report = delete_owner(engine, store, instance, target)
            else:
                report = delete_projects(engine, store, instance, [target])
        except DeletionRefused as exc:
            raise _fail(str(exc)) from exc
    _print_report(report.as_dict(), as_json)


@project_app.command("delete")
def project_delete(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Delete a project: its rows, S3 objects, Dagster runs and partition. Refused while a
    run of it is queued or in progress."""
    from video_pipeline.storage.projects import is_project_id

    if not is_project_id(project_id):
        raise _fail(f"'{project_id}' is not a project id")
    _delete("project", project_id, as_json)


@owner_app.command("delete")
def owner_delete(
    owner_id: Annotated[str, typer.Argument(help="The owner whose data goes.")],
    as_json: JsonFlag = False,
) -> None:
    """Delete every project of an owner and its settings; refused while any of them runs."""
    _delete("owner", owner_id, as_json)


# --------------------------------------------------------------------------- owners


MAX_COUNT = 2**31 - 1
"""The largest count a quota column holds."""
MAX_USD = 1e9


@owner_app.command("set")
def owner_set(
    owner_id: Annotated[str, typer.Argument(help="The owner.")],
    webhook_url: Annotated[
        str | None, typer.Option(help="Default webhook of its projects.")
    ] = None,
    projects_per_day: Annotated[int | None, typer.Option(min=0, max=MAX_COUNT)] = None,
    projects_in_progress: Annotated[int | None, typer.Option(min=0, max=MAX_COUNT)] = None,
    cost_per_day_usd: Annotated[float | None, typer.Option(min=0, max=MAX_USD)] = None,
    cost_per_month_usd: Annotated[float | None, typer.Option(min=0, max=MAX_USD)] = None,
) -> None:
    """Set the owner's webhook and quota overrides (omitted options keep their value)."""
    from video_pipeline.storage.owners import save_owner_settings

    if not owner_id.strip():
        raise _fail("the owner id is empty: name the owner whose settings these are")

    values = {
        "webhook_url": webhook_url,
        "projects_per_day": projects_per_day,
        "projects_in_progress": projects_in_progress,
        "cost_per_day_usd": cost_per_day_usd,
        "cost_per_month_usd": cost_per_month_usd,
    }
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise _fail(f"{webhook_url!r} is not an http(s) URL")
    saved = save_owner_settings(
        _engine(load_settings()), owner_id, {k: v for k, v in values.items() if v is not None}
    )
    typer.echo(json.dumps(saved, default=str))


# --------------------------------------------------------------------------- estimates


@project_app.command("estimate")
def project_estimate(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Expected cost with the configured provider and price table; calls no paid endpoint.
    Stored beside the actual cost, which is filled in when the project finishes."""
    from video_pipeline.errors import PipelineInputError

    try:
        estimate = store_estimate(project_id)
    except PipelineInputError as exc:
        raise _fail(str(exc)) from exc
    print_estimate(estimate, as_json)


def store_estimate(project_id: str) -> CostEstimate:
    from video_pipeline.estimate import estimate_with_settings
    from video_pipeline.models import Sources
    from video_pipeline.storage.estimates import save_estimate
    from video_pipeline.storage.projects import load_project
    from video_pipeline.storage.stage_outputs import load_output

    settings = load_settings()
    engine = _engine(settings)
    project = load_project(engine, project_id)
    extracted: Sources | None
    try:
        extracted = load_output(engine, project_id, "sources", Sources)
    except LookupError:
        extracted = None
    estimate = estimate_with_settings(project, settings, extracted)
    lines = [line.model_dump() for line in estimate.lines]
    save_estimate(engine, project_id, estimate.provider, estimate.total_usd, lines)
    return estimate


def print_estimate(estimate: CostEstimate, as_json: bool) -> None:
    if as_json:
        typer.echo(estimate.model_dump_json(indent=2))
        return
    typer.echo(f"estimated cost: ${estimate.total_usd:.4f} ({estimate.provider})")
    for line in estimate.lines:
        units = line.input_units + line.output_units
        typer.echo(
            f"  {line.step:<12} {line.model:<24} {units:>8} {line.unit:<10} ${line.cost_usd:.4f}"
        )
    for assumption in estimate.assumptions:
        typer.echo(f"  assumes {assumption}")


def show_history(project_id: str, overview: dict[str, Any]) -> None:
    """Adds the status history and the cost estimate to `project show`."""
    from video_pipeline.storage.estimates import estimate_row
    from video_pipeline.storage.events import project_history

    engine = _engine(load_settings())
    overview["history"] = project_history(engine, project_id)
    overview["cost"] = estimate_row(engine, project_id)


def print_history(overview: dict[str, Any]) -> None:
    typer.echo("history:")
    for event in overview["history"]:
        stage = f" [{event['stage']}]" if event["stage"] else ""
        reason = f" — {event['reason']}" if event["reason"] else ""
        typer.echo(
            f"  {event['time'][:19]}  {event['from_status'] or '-'} → {event['to_status']}"
            f"{stage}{reason}"
        )
    cost = overview["cost"]
    if cost is not None:
        actual = "not yet" if cost["actual_usd"] is None else f"${cost['actual_usd']:.4f}"
        typer.echo(f"cost: estimated ${cost['estimated_usd']:.4f}, actual {actual}")
