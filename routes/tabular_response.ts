/**
 * Streaming rows as JSON or CSV: the download format of every query API.
 * Rows are pulled page by page from the store as the client reads, so a
 * download of millions of rows never sits in memory.
 */
import type { Context } from "hono";
import { csvLine } from "../domain/csv.ts";

/** A flat record: the JSON object of one row, and its CSV cells in `columns` order. */
export type FlatRow<C extends string> = Record<C, string | number | boolean | null>;

/** True when the client asked for CSV (`?format=csv`, or `Accept: text/csv` without a format). */
export function wantsCsv(c: Context, format: "json" | "csv" | undefined): boolean {
  return format === "csv" || (format === undefined && (c.req.header("accept") ?? "").includes("text/csv"));
}

/** A streamed response of `rows` as CSV (header line first) or as a JSON array. */
export function tabularResponse<C extends string>(
  rows: AsyncIterable<FlatRow<C>>,
  options: { csv: boolean; columns: readonly C[]; filename: string },
): Response {
  const chunks = options.csv ? csvChunks(rows, options.columns) : jsonChunks(rows);
  const headers: Record<string, string> = options.csv
    ? { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${options.filename}"` }
    : { "content-type": "application/json; charset=utf-8" };
  return new Response(ReadableStream.from(encode(chunks)), { headers });
}

async function* jsonChunks(rows: AsyncIterable<object>): AsyncGenerator<string> {
  let separator = "[\n";
  for await (const row of rows) {
    yield separator + JSON.stringify(row);
    separator = ",\n";
  }
  yield separator === "[\n" ? "[]\n" : "\n]\n";
}

async function* csvChunks<C extends string>(
  rows: AsyncIterable<FlatRow<C>>,
  columns: readonly C[],
): AsyncGenerator<string> {
  yield csvLine(columns);
  for await (const row of rows) yield csvLine(columns.map((column) => row[column]));
}

/** Batches small strings into ~64 KiB chunks so millions of rows are not millions of writes. */
async function* encode(chunks: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let pending = "";
  for await (const chunk of chunks) {
    pending += chunk;
    if (pending.length >= 65_536) {
      yield encoder.encode(pending);
      pending = "";
    }
  }
  if (pending) yield encoder.encode(pending);
}

/** Maps an async iterable lazily. */
export async function* mapRows<T, R>(rows: AsyncIterable<T>, map: (row: T) => R): AsyncGenerator<R> {
  for await (const row of rows) yield map(row);
}
