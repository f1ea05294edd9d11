# One production image for every process of the platform:
#   webserver:   dagster-webserver -h 0.0.0.0 -p 3000 -w workspace.yaml
#   daemon:      dagster-daemon run -w workspace.yaml
#   code server: dagster api grpc -h 0.0.0.0 -p 4000 -m video_pipeline.definitions
#   workers:     video-pipeline worker --queue content|render
#   metrics:     video-pipeline serve            (/metrics, /health, /ready on port 9100)
# deploy/compose.yaml (one host) and deploy/helm/ (Kubernetes) run it; configuration comes
# from the environment only (README, "Configuration"); no secret is baked in.
#
# Two stages: the build stage installs the package and its dependencies into a virtualenv;
# the final stage receives that virtualenv alone (no compiler, pip cache, build folder,
# egg-info or source tree) and runs as an unprivileged user. The embedded development
# servers (the `embedded` extra) are not installed.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY video_pipeline ./video_pipeline
# A current pip resolves the extras the dependencies ask for (lxml[html-clean]) as the tests'
# environment does; it is removed again with setuptools.
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install /wheels/*.whl \
    && /opt/venv/bin/pip uninstall --yes pip setuptools
# Only what runs goes on: one media binary (imageio-ffmpeg's ffmpeg 9.x, whose filters the
# render needs: `format` with color_ranges, libass, libx264; it also reads what ffprobe would,
# see render/probe.py), no test suites, no source maps of the UI's scripts, no debug symbols in
# the compiled extensions (binutils is installed in this stage only; libraries that auditwheel
# relinked, with an RPATH or under *.libs/, break when stripped), of botocore's AWS service
# models only S3 and the credential services (STS, SSO, sign-in), and of babel's locale data
# only `root` and `en`: the project reads English names of languages (providers/languages.py),
# and courlan, babel's other user, reads locales only in its URL language filter, which
# crawling uses and text extraction does not.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends binutils \
    && site=$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
    && find "$site" -depth -type d -name tests -not -path "*/dagster*" -exec rm -rf {} + \
    && find "$site" -name "*.js.map" -delete \
    && find "$site" -name "*.so*" -type f -not -path "*.libs/*" | while read -r lib; do \
        readelf -d "$lib" | grep -qE "RPATH|RUNPATH" || strip --strip-debug "$lib"; done \
    && find "$site"/botocore/data -mindepth 1 -maxdepth 1 -type d -not -name s3 -not -name sts \
        -not -name sso -not -name sso-oidc -not -name signin -exec rm -rf {} + \
    && find "$site"/babel/locale-data -name "*.dat" -not -name root.dat -not -name en.dat -delete

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home
RUN useradd --uid 1000 --user-group --home-dir /opt/dagster --no-create-home --shell /usr/sbin/nologin dagster \
    && mkdir -p "$DAGSTER_HOME/storage" /opt/dagster/app \
    && chown -R dagster:dagster /opt/dagster/dagster_home
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/dagster/app
COPY workspace.yaml ./
COPY dagster.yaml "$DAGSTER_HOME/dagster.yaml"

USER 1000:1000
EXPOSE 3000 4000 9100
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "workspace.yaml"]
