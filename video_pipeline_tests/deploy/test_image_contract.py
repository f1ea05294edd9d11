"""What every deployment file asks of the image exists in it: the commands (read from
[project.scripts], the Typer app and Dagster's own entry points) and the environment
variables (read from the settings classes, plus DAGSTER_* and boto3's own)."""

from __future__ import annotations

import re

from video_pipeline_tests.deploy.layout import (
    HELM_VALUES,
    PENDING_COMMANDS,
    PLATFORM_MANIFESTS,
    Command,
    allowed_variable,
    app_services,
    check_command,
    cli_command,
    compose_commands,
    dockerfile_command,
    entry_points,
    kubernetes_commands,
    kubernetes_env_names,
    load_manifests,
    load_yaml,
    pod_containers,
    pyproject_scripts,
    registered_subcommands,
    settings_variables,
)


def all_commands() -> list[Command]:
    return [*compose_commands(), *kubernetes_commands(), dockerfile_command()]


def test_every_command_the_files_run_exists_with_its_options() -> None:
    problems = [p for p in map(check_command, all_commands()) if p and not p.startswith("pending")]
    assert problems == []


def test_pending_commands_are_only_the_ones_being_added() -> None:
    pending = {p for p in map(check_command, all_commands()) if p and p.startswith("pending")}
    allowed = {f"pending: {' '.join(c)}" for c in PENDING_COMMANDS} | {"pending: celery"}
    assert pending <= allowed


def test_entry_points_come_from_pyproject_and_the_typer_app() -> None:
    assert set(pyproject_scripts()) <= set(entry_points())
    commands = registered_subcommands(cli_command("video-pipeline"))
    assert {"migrate", "project", "services", "demo", "dev"} <= commands
    assert {"dagster", "dagster-webserver", "dagster-daemon"} <= set(entry_points())


def test_check_command_finds_missing_commands_and_options() -> None:
    assert check_command(Command("t", ["video-pipeline", "migrate"])) is None
    assert "is not a command" in str(check_command(Command("t", ["video-pipeline", "nope"])))
    assert "has no option --nope" in str(
        check_command(Command("t", ["dagster", "api", "grpc", "--nope", "1"]))
    )
    assert "no entry point" in str(check_command(Command("t", ["dagit"])))


def test_settings_variables_are_read_from_the_settings_tree() -> None:
    names = settings_variables()
    assert {"DATABASE_URL", "VIDEO_PIPELINE_BUCKET", "OPENAI_API_KEY"} <= names
    assert not [name for name in names if name.startswith("DAGSTER_")]


def set_variables() -> dict[str, set[str]]:
    found = {f"compose {n}": set(s.get("environment", {})) for n, s in app_services().items()}
    chart = load_yaml(HELM_VALUES)
    for part in ("dagsterWebserver", "dagsterDaemon"):
        found[f"chart {part}"] = kubernetes_env_names(chart[part].get("env"))
    for deployment in chart["dagster-user-deployments"]["deployments"]:
        found[f"chart {deployment['name']}"] = kubernetes_env_names(deployment.get("env"))
    for manifest in load_manifests(PLATFORM_MANIFESTS):
        for container in pod_containers(manifest):
            found[manifest["metadata"]["name"]] = kubernetes_env_names(container.get("env"))
    return found


def test_every_variable_set_is_one_the_settings_read() -> None:
    unknown = {
        where: sorted(n for n in names if not allowed_variable(n))
        for where, names in set_variables().items()
    }
    assert {where: names for where, names in unknown.items() if names} == {}


def test_secret_names_documented_for_kubernetes_are_read_by_the_settings() -> None:
    header = HELM_VALUES.read_text().split("\nglobal:")[0]
    documented = re.findall(r"\b[A-Z][A-Z0-9_]{3,}\b", header.split("video-pipeline-env")[1])
    documented = [name for name in documented if "_" in name]
    assert "DATABASE_URL" in documented
    assert [name for name in documented if not allowed_variable(name)] == []
