"""The language identifier's model (py3langid), loaded once per process: 0.7 s of CPU.

The run launcher's fork server loads it before it forks a run, and a forked run keeps this
module (`run_launcher.KEPT_MODULES`) while it imports the rest of the package afresh, so no
run loads the model again. Nothing here depends on the rest of the package.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier


@cache
def language_identifier() -> LanguageIdentifier:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
