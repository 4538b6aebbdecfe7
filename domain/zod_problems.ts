/** One wording for validation failures, wherever zod checks input. */
import type { z } from "zod";

/** Every issue of a zod error as `path: message`, joined with "; " (no path prefix for a top-level value). */
export function describeProblems(error: z.ZodError): string {
  return error.issues
    .map((issue) => issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message)
    .join("; ");
}
