"""The embedded servers come from the optional extra `embedded`; production images leave it
out, so its wheels are imported only when a server is used, and their absence is explained."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType


class MissingExtraError(RuntimeError):
    """An embedded server was asked for in an installation without the `embedded` extra."""


def missing_extra(server: str, wheel: str, instead: str) -> MissingExtraError:
    return MissingExtraError(
        f"the embedded {server} needs the `{wheel}` wheel, which this installation lacks: "
        "install video_pipeline[embedded] (`pip install 'video_pipeline[embedded]'`, or "
        f"`make install` in a checkout), or set {instead} to use a real server"
    )


def embedded_module(name: str, server: str, wheel: str, instead: str) -> ModuleType:
    """Import a module of an `embedded` wheel, or raise `MissingExtraError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            return importlib.import_module(name)
    except ImportError as exc:
        raise missing_extra(server, wheel, instead) from exc
