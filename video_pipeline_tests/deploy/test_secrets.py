"""No secret value in any deployment file or the image: secrets come from the environment,
an .env file the operator keeps, or the platform's Secrets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from video_pipeline_tests.deploy.layout import DEPLOY, REPO, load_manifests

SECRET_KEY = re.compile(r"pass(word)?|secret|token|api_?key|access_key|credential|hash", re.I)
# Keys whose value names a Secret rather than holding one.
NAMES_A_SECRET = re.compile(r"(secret_?name|existing_?secret|env_?secrets|secret_?ref)$", re.I)
INTERPOLATION = re.compile(r"^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$")
URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]*:([^@\s]+)@")
# Shapes of real secrets: bcrypt hashes, OpenAI keys, AWS key ids, long hex or base64 runs.
SECRET_SHAPES = re.compile(
    r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}|sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}"
    r"|\b[0-9a-f]{32,}\b|\b[A-Za-z0-9+/]{40,}={0,2}"
)

YAML_FILES = sorted(DEPLOY.rglob("*.yaml"))
TEXT_FILES = [
    *YAML_FILES,
    DEPLOY / "compose" / "Caddyfile",
    DEPLOY / "compose" / "env.example",
    DEPLOY / "compose" / "postgres-init.sql",
    REPO / "Dockerfile",
    REPO / "dagster.yaml",
]


def pairs(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, scalar) of a YAML tree; Kubernetes `{name, value}` env items count as
    key and value."""
    if isinstance(node, dict):
        if set(node) >= {"name", "value"}:
            yield str(node["name"]), node["value"]
        for child_key, child in node.items():
            yield from pairs(child, str(child_key))
    elif isinstance(node, list):
        for child in node:
            yield from pairs(child, key)
    else:
        yield key, node


def literal_secret(key: str, value: Any) -> bool:
    if not SECRET_KEY.search(key) or NAMES_A_SECRET.search(key):
        return False
    if value is None or isinstance(value, bool) or value == "":
        return False
    return not INTERPOLATION.match(str(value))


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_yaml_files_hold_no_secret_values(path: Path) -> None:
    found = []
    for document in load_manifests(path):
        for key, value in pairs(document):
            if literal_secret(key, value):
                found.append(f"{key}: {value}")
            for password in URL_WITH_PASSWORD.findall(str(value)):
                if not INTERPOLATION.match(password):
                    found.append(f"{key}: a URL with a password")
    assert found == []


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_file_holds_something_shaped_like_a_secret(path: Path) -> None:
    assert SECRET_SHAPES.findall(path.read_text()) == []


def test_the_env_example_leaves_every_secret_empty() -> None:
    lines = (DEPLOY / "compose" / "env.example").read_text().splitlines()
    entries = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    secrets = {key: value for key, value in entries.items() if SECRET_KEY.search(key)}
    assert secrets and all(value == "" for value in secrets.values())
    assert (DEPLOY / ".gitignore").read_text().split() == [".env"]


def test_the_dockerfile_bakes_in_no_secret() -> None:
    lines = (REPO / "Dockerfile").read_text().splitlines()
    settings = [line for line in lines if re.match(r"^(ENV|ARG)\s", line)]
    assert settings and not [line for line in settings if SECRET_KEY.search(line)]
    assert not [line for line in lines if re.match(r"^(COPY|ADD)\s.*\.env\b", line)]


def test_the_checks_recognise_secrets() -> None:
    assert literal_secret("POSTGRES_PASSWORD", "hunter2")
    assert not literal_secret("POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:?set it}")
    assert not literal_secret("postgresqlSecretName", "video-pipeline-dagster-pg")
    assert URL_WITH_PASSWORD.findall("postgresql://app:hunter2@db/x") == ["hunter2"]
    assert SECRET_SHAPES.findall("key sk-" + "a" * 30)
