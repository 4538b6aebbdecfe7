/** Shared query-string validation for the JSON APIs: ISO instants and a uniform 400. */
import type { Context } from "hono";
import { z } from "zod";
import { describeProblems } from "../domain/zod_problems.ts";

/** An ISO 8601 date/time query parameter, as a Date. */
export const instantParam = z.string().refine(
  (text) => !Number.isNaN(Date.parse(text)),
  "not a date/time (use ISO 8601)",
)
  .transform((text) => new Date(text));

/** 400 with `{ error }` listing every invalid parameter. */
export function invalidQuery(c: Context, error: z.ZodError): Response {
  return c.json({ error: `invalid query: ${describeProblems(error)}` }, 400);
}
