"""How a setting is declared: once, with its environment variable, default and description.

A section is a Dagster `Config` (so resources hold sections as they are, without copying
fields) whose leaf fields are declared with `setting(...)`. `load_section` builds a section
from a mapping of environment variables; `video_pipeline.settings` is the only caller that
passes the real environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, get_args, get_origin

from dagster import EnvVar
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

S = TypeVar("S", bound=BaseModel)


class SettingsError(ValueError):
    """Environment variables hold values the system cannot use; the message names each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid settings: " + "; ".join(problems))
        self.problems = problems


def setting(
    env: str, default: Any, description: str, *, secret: bool = False, **constraints: Any
) -> Any:
    """A leaf setting read from `env`. A `secret` reaches Dagster as an `EnvVar`, resolved at
    run time and never shown in the UI."""
    extra: dict[str, Any] = {"env": env, "secret": secret}
    if callable(default):
        return FieldInfo(
            default_factory=default, description=description, json_schema_extra=extra, **constraints
        )
    return FieldInfo(
        default=default, description=description, json_schema_extra=extra, **constraints
    )


def _extra(field: FieldInfo) -> dict[str, Any]:
    return field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}


def env_name(field: FieldInfo) -> str | None:
    name = _extra(field).get("env")
    return str(name) if name else None


def _section_type(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return None
    fields = annotation.model_fields.values()
    return annotation if any(env_name(f) or _section_type(f) for f in fields) else None


def _is_structured(annotation: Any) -> bool:
    """Values of dicts, lists and models come from the environment as JSON."""
    origin = get_origin(annotation)
    if origin is not None and origin not in (list, dict):
        return any(_is_structured(arg) for arg in get_args(annotation))
    return origin in (list, dict) or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel)
    )


def load_sections(
    sections: Mapping[str, type[BaseModel]],
    environ: Mapping[str, str],
    *,
    secrets_as_env_vars: bool = False,
) -> dict[str, Any]:
    """Each of `sections` loaded from `environ`; every problem of all of them in one error."""
    loaded: dict[str, Any] = {}
    problems: list[str] = []
    for name, section in sections.items():
        try:
            loaded[name] = load_section(section, environ, secrets_as_env_vars=secrets_as_env_vars)
        except SettingsError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SettingsError(problems)
    return loaded


def load_section(
    cls: type[S], environ: Mapping[str, str], *, secrets_as_env_vars: bool = False
) -> S:
    """`cls` with every declared variable that `environ` sets; refusals name the variable.

    Every problem of the tree below `cls` is reported in one `SettingsError`.
    """
    sections = {
        name: section
        for name, field in cls.model_fields.items()
        if (section := _section_type(field)) is not None
    }
    problems: list[str] = []
    try:
        values = load_sections(sections, environ, secrets_as_env_vars=secrets_as_env_vars)
    except SettingsError as exc:
        values, problems = {}, list(exc.problems)
    for name, field in cls.model_fields.items():
        env = env_name(field)
        if name in sections or not env or env not in environ:
            continue
        try:
            values[name] = _raw(env, environ[env], field, secrets_as_env_vars)
        except SettingsError as exc:
            problems.extend(exc.problems)
    try:
        # The constructor, not model_validate: Dagster's Config keeps an EnvVar as it is.
        section_value = cls(**values)
    except ValidationError as exc:
        problems.extend(_explain(cls, exc, environ))
    if problems:
        raise SettingsError(problems)
    return section_value


def _raw(env: str, value: str, field: FieldInfo, secrets_as_env_vars: bool) -> Any:
    if secrets_as_env_vars and _extra(field).get("secret"):
        return EnvVar(env)
    if _is_structured(field.annotation):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise SettingsError([f"{env} must be JSON: {exc.msg} at position {exc.pos}"]) from None
    if value == "" and type(None) in get_args(field.annotation):
        return None
    return value


def _explain(cls: type[BaseModel], exc: ValidationError, environ: Mapping[str, str]) -> list[str]:
    problems = []
    for error in exc.errors():
        field = cls.model_fields.get(str(error["loc"][0])) if error["loc"] else None
        env = env_name(field) if field else None
        where = ".".join(str(p) for p in error["loc"][1:])
        if env:
            shown = environ.get(env, "")
            label = f"{env}={shown!r}" + (f" (at {where})" if where else "")
        else:
            label = f"{cls.__name__}." + ".".join(str(p) for p in error["loc"])
        problems.append(f"{label}: {error['msg']}")
    return problems


@dataclass(frozen=True)
class Declared:
    """One declared setting, as the README's configuration table lists it."""

    env: str
    default: Any
    description: str
    path: str


def declared_settings(
    sections: Mapping[str, type[BaseModel]],
    prefix: str = "",
    seen: set[type[BaseModel]] | None = None,
) -> Iterator[Declared]:
    """Every setting below `sections`; a section used in two places is listed once (a
    resource is its section's subclass, so the two count as one declaration)."""
    seen = set() if seen is None else seen
    for name, section in sections.items():
        if any(issubclass(section, known) or issubclass(known, section) for known in seen):
            continue
        seen.add(section)
        nested = {}
        for field_name, field in section.model_fields.items():
            inner = _section_type(field)
            if inner is not None:
                nested[field_name] = inner
            elif env := env_name(field):
                default = field.get_default(call_default_factory=True)
                path = f"{prefix}{name}.{field_name}"
                yield Declared(env, default, field.description or "", path)
        yield from declared_settings(nested, f"{prefix}{name}.", seen)
