"""Reading the deployment files as the tests check them: the compose file, the Helm values,
the plain manifests, and what they ask of the image (commands, environment variables)."""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import typer
import yaml

from video_pipeline.settings import declared

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
CADDYFILE = DEPLOY / "compose" / "Caddyfile"
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
OAUTH2_PROXY_VALUES = DEPLOY / "helm" / "oauth2-proxy-values.yaml"
PLATFORM_MANIFESTS = DEPLOY / "helm" / "platform.yaml"

# Commands other engineers are adding (issue 11: Celery workers; the metrics endpoint).
# Until they are registered the deployment files may name them; once registered, their
# options are checked like every other command's.
PENDING_COMMANDS = {("video-pipeline", "worker"), ("video-pipeline", "serve")}
# `celery` comes with dagster-celery, the Celery mode's dependency.
PENDING_PROGRAMS = {"celery"}
# The broker URL of the Celery mode, not yet a field of Settings.
PENDING_VARIABLES = {"VIDEO_PIPELINE_BROKER_URL"}
# Read by boto3 itself (credentials chain, endpoint and region).
STANDARD_AWS_VARIABLES = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
}
# Programs of the base image that health checks may use.
BASE_IMAGE_PROGRAMS = {"python", "sh"}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_manifests(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(COMPOSE_FILE)
    return data


def app_services() -> dict[str, dict[str, Any]]:
    """The compose services that run this project's image."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if str(service.get("image", "")).startswith("${VIDEO_PIPELINE_IMAGE")
    }


def health_command(service: dict[str, Any]) -> list[str]:
    test = service.get("healthcheck", {}).get("test", [])
    if isinstance(test, str):
        return shlex.split(test)
    if test[:1] == ["CMD"]:
        return list(test[1:])
    if test[:1] == ["CMD-SHELL"]:
        return shlex.split(test[1].replace("$$", "$"))
    return []


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Command:
    where: str
    argv: list[str]


def compose_commands() -> Iterator[Command]:
    for name, service in app_services().items():
        yield Command(f"compose service {name}", list(service["command"]))
        if "healthcheck" in service:
            yield Command(f"compose health check of {name}", health_command(service))


def kubernetes_commands() -> Iterator[Command]:
    values = load_yaml(HELM_VALUES)
    for deployment in values["dagster-user-deployments"]["deployments"]:
        argv = ["dagster", "api", "grpc", *deployment["dagsterApiGrpcArgs"]]
        yield Command(f"user-code deployment {deployment['name']}", argv)
    for manifest in load_manifests(PLATFORM_MANIFESTS):
        for container in pod_containers(manifest):
            where = f"{manifest['metadata']['name']}/{container['name']}"
            yield Command(where, container["command"])


def pod_containers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    spec = manifest.get("spec", {}).get("template", {}).get("spec", {})
    containers: list[dict[str, Any]] = spec.get("containers", [])
    return containers


def dockerfile_command() -> Command:
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            return Command("Dockerfile CMD", yaml.safe_load(line.removeprefix("CMD ")))
    raise AssertionError("the Dockerfile has no CMD")


def pyproject_scripts() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    scripts: dict[str, str] = project["scripts"]
    return scripts


@cache
def entry_points() -> dict[str, str]:
    """Every program the image installs that these files may call, with its target: this
    project's [project.scripts] and the Dagster commands."""
    programs: dict[str, str] = dict(pyproject_scripts())
    for dist in ("dagster", "dagster-webserver"):
        for point in distribution(dist).entry_points.select(group="console_scripts"):
            programs[point.name] = point.value
    return programs


@cache
def cli_command(program: str) -> Any:
    """The program's click command (Typer's vendored click too: both have `params`, groups
    `commands`)."""
    return _click_command(entry_points()[program])


def _click_command(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    module = import_module(module_name)
    obj: Any = module
    for part in attribute.split("."):
        obj = getattr(obj, part)
    if isinstance(obj, typer.Typer):
        return typer.main.get_command(obj)
    # Dagster's scripts are `main()` functions that call the module's click group `cli`.
    obj = obj if hasattr(obj, "params") else getattr(module, "cli", None)
    assert hasattr(obj, "params"), f"{target} is not a click command"
    return obj


def registered_subcommands(group: Any) -> set[str]:
    return set(getattr(group, "commands", {}))


def check_command(command: Command) -> str | None:
    """None when the command exists with these options, else what is wrong (or pending)."""
    program, *args = command.argv
    if program in BASE_IMAGE_PROGRAMS:
        return None
    if program in PENDING_PROGRAMS and program not in entry_points():
        return f"pending: {program}"
    if program not in entry_points():
        return f"{command.where}: `{program}` is no entry point of the image"
    current = cli_command(program)
    path = [program]
    while hasattr(current, "commands") and args and not args[0].startswith("-"):
        name = args.pop(0)
        path.append(name)
        if name not in current.commands:
            if (program, name) in PENDING_COMMANDS:
                return f"pending: {' '.join(path)}"
            return f"{command.where}: `{' '.join(path)}` is not a command"
        current = current.commands[name]
    known = {opt for param in current.params for opt in [*param.opts, *param.secondary_opts]}
    unknown = [arg for arg in args if arg.startswith("-") and arg.split("=")[0] not in known]
    if unknown:
        return f"{command.where}: `{' '.join(path)}` has no option {', '.join(unknown)}"
    return None


# --------------------------------------------------------------------------- environment


def settings_variables() -> set[str]:
    """The environment variables the settings tree declares (`video_pipeline.settings`)."""
    return {item.env for item in declared()}


def allowed_variable(name: str) -> bool:
    return (
        name in settings_variables()
        or name.startswith("DAGSTER_")
        or name in STANDARD_AWS_VARIABLES
        or name in PENDING_VARIABLES
    )


def kubernetes_env_names(env: dict[str, Any] | list[dict[str, Any]] | None) -> set[str]:
    if not env:
        return set()
    if isinstance(env, dict):
        return set(env)
    return {item["name"] for item in env}
