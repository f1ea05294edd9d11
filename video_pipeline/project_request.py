"""A new project from the CLI: local files copied into the uploads folder, then checked by
the same `validated_project` the pipeline uses on rows inserted by SQL."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from video_pipeline.models import Project
from video_pipeline.stages.validation import RawProject, RawSource, SpeechEngine, validated_project


def upload(path: Path, root: Path) -> Path:
    """Copy `path` into `root/<first 16 hex digits of its sha256>/<name>` (idempotent);
    a file already inside `root` stays where it is."""
    resolved, root = path.expanduser().resolve(), root.resolve()
    if resolved.is_relative_to(root):
        return resolved
    digest = hashlib.sha256()
    with resolved.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    target = root / digest.hexdigest()[:16] / resolved.name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resolved, target)
    return target


def source_from_argument(argument: str, role: str) -> RawSource:
    """`@text` is inline text, `http(s)://…` a URL, anything else a local file."""
    if argument.startswith("@"):
        return RawSource(id=0, role=role, kind="text", content=argument[1:])
    if argument.startswith(("http://", "https://")):
        return RawSource(id=0, role=role, kind="url", uri=argument)
    path = Path(argument).expanduser()
    if not path.is_file():
        raise ValueError(f"source file {argument} does not exist")
    return RawSource(id=0, role=role, kind="file", uri=str(path.resolve()))


def project_request(raw: RawProject, root: Path, speech: SpeechEngine | None = None) -> Project:
    """The checked project (sources numbered as their rows will be), its files then copied
    into the uploads folder `root`: nothing refused is copied."""
    numbered = [s.model_copy(update={"id": i}) for i, s in enumerate(raw.sources, 1)]
    project = validated_project(raw.model_copy(update={"sources": numbered}), speech=speech)
    for source in project.sources:
        if source.kind == "file" and source.uri:
            source.uri = str(upload(Path(source.uri), root))
    return project
