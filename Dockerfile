# digestbot: the long-running bot (`digestbot run`), as a non-root user.
# Build: docker build -t digestbot .   Run: see compose.yaml and README.md "Deploy".
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY prompts ./prompts
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/digestbot --create-home digestbot
# The working directory holds the default SQLite file (sqlite:///digest.db) when no
# PostgreSQL URL is given: mount a volume here to keep it.
WORKDIR /var/lib/digestbot
USER digestbot
# Listen on every interface of the container (the default, 127.0.0.1, is unreachable from
# outside it); JSON log lines for the log collector; no .pyc writes, no buffered logs.
ENV DIGEST_HTTP_HOST=0.0.0.0 \
    DIGEST_HTTP_PORT=8080 \
    DIGEST_LOG_FORMAT=json \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
EXPOSE 8080
# /healthz: 200 while the database answers, 503 (a failed check) when it does not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('DIGEST_HTTP_PORT', '8080') + '/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["digestbot"]
CMD ["run"]
