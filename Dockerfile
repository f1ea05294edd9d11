# One image for the Dagster webserver, the daemon and the code server.
#   webserver:   dagster-webserver -h 0.0.0.0 -p 3000 -w workspace.yaml
#   daemon:      dagster-daemon run -w workspace.yaml
#   code server: dagster api grpc -h 0.0.0.0 -p 4000 -m video_pipeline.definitions
# Configure with DATABASE_URL, DAGSTER_PG_URL, AWS_* / AWS_ENDPOINT_URL_S3,
# VIDEO_PIPELINE_BUCKET and (optionally) VIDEO_PIPELINE_PROVIDER=openai + OPENAI_API_KEY.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/home

WORKDIR /opt/dagster/app
COPY pyproject.toml README.md ./
COPY video_pipeline ./video_pipeline
RUN pip install . && useradd --create-home --uid 1000 dagster \
    && mkdir -p "$DAGSTER_HOME" && chown dagster "$DAGSTER_HOME"
COPY workspace.yaml alembic.ini ./
COPY dagster.yaml "$DAGSTER_HOME/dagster.yaml"

USER dagster
EXPOSE 3000 4000
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "workspace.yaml"]
