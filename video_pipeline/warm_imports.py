"""Preloaded by the run launcher's fork server, so that what every run needs is in memory
before a run is forked: the libraries the definitions import and data that is slow to load.
An error here is left to the run, which does it all again and reports it in its log.

Per run, this saves (CPU, measured on this code): the libraries, 2.5 s; `dagster._daemon.cli`,
0.4 s (what the `dagster-daemon` script imports: multiprocessing runs the parent's main
script again in every forked process, as `__mp_main__`); the language identifier's model,
0.7 s (`providers/language_model.py`, which a run keeps); Babel's language names, 0.2 s,
and botocore's S3 model, 0.1 s (both cached by the libraries themselves); the source
formats' parsers, which `stages/formats.py` imports only when a source needs one, 0.1 s.

Then `gc.freeze()`: what the fork server holds is out of the garbage collector's reach in
the runs, whose collections would otherwise walk it (CPU) and write to its pages (memory:
copy-on-write then gives the run its own copy of each page).
"""

import contextlib
import gc

with contextlib.suppress(Exception):
    import boto3
    import charset_normalizer  # noqa: F401
    import dagster._daemon.cli  # noqa: F401
    import markdown_it  # noqa: F401
    import pypdf  # noqa: F401
    import trafilatura  # noqa: F401

    import video_pipeline.definitions  # noqa: F401
    from video_pipeline.providers.languages import supported_languages

    supported_languages()
    boto3.client("s3", region_name="us-east-1", aws_access_key_id="-", aws_secret_access_key="-")
gc.freeze()
