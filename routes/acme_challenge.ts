/**
 * `GET /.well-known/acme-challenge/:token`: the HTTP-01 answer the CA fetches
 * over plain HTTP while fieldgate orders its certificate. Public by design;
 * it only ever returns answers the ACME client published.
 */
import { Hono } from "hono";
import type { AcmeChallenges } from "../certs/acme_challenges.ts";

/** The challenge route, reading answers from `challenges`. */
export function acmeChallengeRoutes(challenges: AcmeChallenges): Hono {
  const app = new Hono();
  app.get("/.well-known/acme-challenge/:token", async (c) => {
    const answer = await challenges.read(c.req.param("token"));
    return answer === null ? c.text("no such ACME challenge\n", 404) : c.text(answer);
  });
  return app;
}
