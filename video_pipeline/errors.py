"""Errors whose message is written for the person who owns the project."""


class PipelineInputError(ValueError):
    """The project's input cannot be processed; the message says what to change.

    Stages raise it for bad input (a missing file, an unsupported source type, an empty
    brief, an unreachable URL). It is never retried, and its message becomes the project's
    `status_detail` and the failure shown in the Dagster UI.
    """
