# fieldgate container. Build: docker build -t fieldgate .
# Run:   docker run -p 8443:8443 -p 38981:38981 -p 38979:38979 -v fieldgate-data:/data fieldgate
# (not built here: these machines have no Docker engine; the file is linted in CI with dockerfilelint).

# Stage 1: resolve and download every npm dependency once, from the lock file.
FROM denoland/deno:2.9.6 AS dependencies
WORKDIR /app
COPY deno.json deno.lock ./
COPY . .
RUN deno install --frozen --entrypoint main.ts auth/cli.ts

# Stage 2: the runtime image, as the unprivileged deno user.
FROM denoland/deno:2.9.6
WORKDIR /app
COPY --from=dependencies --chown=deno:deno /app /app
RUN mkdir -p /data && chown deno:deno /data
USER deno
ENV FIELDGATE_DATA_DIR=/data \
    FIELDGATE_HTTP_HOSTNAME=127.0.0.1 \
    DENO_NO_UPDATE_CHECK=1
VOLUME ["/data"]
EXPOSE 8443 38981 38979
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8080/ping'); Deno.exit(r.ok ? 0 : 1)"]
ENTRYPOINT ["deno", "run", "-A", "main.ts"]
