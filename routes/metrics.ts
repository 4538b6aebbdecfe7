/**
 * `GET /metrics`: fieldgate's figures for Prometheus. It needs credentials
 * like every non-public route (htpasswd basic auth, or the `metrics.token`
 * bearer token, which Prometheus's `authorization` scrape setting sends):
 * station names, paths and connection counts are not for anyone who asks.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { collectHealth, type Health } from "../metrics/health.ts";
import { INGEST_KINDS, ingestCounters, type IngestKind } from "../metrics/ingest.ts";
import { loggedProblems } from "../metrics/log_counter.ts";
import { formatPrometheus, type MetricFamily, PROMETHEUS_CONTENT_TYPE } from "../metrics/prometheus.ts";
import type { StatusSources } from "./status.ts";

/** `/metrics` as a Hono sub-app; `guard` decides who may scrape. */
export function metricsRoutes(sources: StatusSources, guard: MiddlewareHandler): Hono {
  const app = new Hono();
  app.get("/metrics", guard, async (c) => {
    const text = formatPrometheus(metricFamilies(await collectHealth(sources)));
    return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
  });
  return app;
}

/** Every metric fieldgate exposes, from a health snapshot and the process counters. */
export function metricFamilies(health: Health): MetricFamily[] {
  const items = (Object.keys(INGEST_KINDS) as IngestKind[]).filter((kind) => kind !== "tus_bytes");
  const problems = Object.keys(loggedProblems.series().counters).sort();
  const gauge = (name: string, help: string, value: number): MetricFamily => ({
    name,
    help,
    type: "gauge",
    samples: [{ value }],
  });
  return [
    {
      name: "fieldgate_ingested_total",
      help: "Items acknowledged after they were durable, per kind (OTT transmissions, meter readings, …).",
      type: "counter",
      samples: items.map((kind) => ({ labels: { kind }, value: ingestCounters.total(kind) })),
    },
    {
      name: "fieldgate_tus_received_bytes_total",
      help: "tus upload bytes made durable and recorded.",
      type: "counter",
      samples: [{ value: ingestCounters.total("tus_bytes") }],
    },
    {
      name: "fieldgate_logged_problems_total",
      help: "Warnings and errors logged, per subsystem and level.",
      type: "counter",
      samples: problems.map((name) => {
        const [subsystem, level] = name.split(".");
        return { labels: { subsystem, level }, value: loggedProblems.total(name) };
      }),
    },
    {
      name: "fieldgate_device_connections",
      help: "Device connections open now, per socket.",
      type: "gauge",
      samples: health.connections.map((c) => ({ labels: { socket: c.socket }, value: c.open })),
    },
    {
      name: "fieldgate_device_connections_total",
      help: "Device connections served since start, per socket.",
      type: "counter",
      samples: health.connections.map((c) => ({ labels: { socket: c.socket }, value: c.total })),
    },
    gauge(
      "fieldgate_certificate_expiry_seconds",
      "Seconds until the served certificate expires (negative once expired).",
      health.certificate.secondsLeft,
    ),
    gauge(
      "fieldgate_certificate_not_after_timestamp_seconds",
      "Expiry of the served certificate, Unix seconds.",
      health.certificate.notAfter.getTime() / 1000,
    ),
    gauge(
      "fieldgate_disk_free_bytes",
      "Bytes available to fieldgate on the data directory's file system.",
      health.disk.freeBytes,
    ),
    gauge("fieldgate_disk_size_bytes", "Size of the data directory's file system.", health.disk.totalBytes),
    gauge(
      "fieldgate_database_up",
      "1 if the database answered a ping within the timeout, else 0.",
      health.database.up ? 1 : 0,
    ),
    gauge("fieldgate_database_ping_seconds", "How long the database ping took.", health.database.latencyMs / 1000),
    gauge(
      "fieldgate_maintenance_active",
      "1 while a maintenance window is in progress (web and API writes paused), else 0.",
      health.maintenance?.phase === "active" ? 1 : 0,
    ),
    gauge("fieldgate_uptime_seconds", "Seconds since this process started.", health.uptimeSeconds),
    {
      name: "fieldgate_build_info",
      help: "Always 1; the version is in the label.",
      type: "gauge",
      samples: [{ labels: { version: health.version }, value: 1 }],
    },
  ];
}
