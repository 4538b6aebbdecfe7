import assert from "node:assert/strict";
import { join } from "node:path";
import { AcmeChallenges } from "../../certs/acme_challenges.ts";
import { acmeChallengeRoutes } from "../../routes/acme_challenge.ts";

Deno.test("HTTP-01 answers are served by token; malformed tokens never reach the file system", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-acme-challenges-" });
  try {
    const challenges = new AcmeChallenges(join(dataDir, "acme", "challenges"));
    const app = acmeChallengeRoutes(challenges);
    const token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    await challenges.publish(token, `${token}.account-thumbprint`);
    const served = await app.request(`/.well-known/acme-challenge/${token}`);
    assert.equal(served.status, 200);
    assert.equal(await served.text(), `${token}.account-thumbprint`);

    await Deno.writeTextFile(join(dataDir, "secret"), "not for the CA");
    for (const path of ["..%2F..%2Fsecret", "short", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX1"]) {
      const refused = await app.request(`/.well-known/acme-challenge/${path}`);
      assert.equal(refused.status, 404, path);
      await refused.body?.cancel();
    }
    await assert.rejects(challenges.publish("../../secret", "x"), /malformed challenge token/);

    await challenges.remove(token);
    await challenges.remove(token);
    const withdrawn = await app.request(`/.well-known/acme-challenge/${token}`);
    assert.equal(withdrawn.status, 404, "a withdrawn answer is gone");
    await withdrawn.body?.cancel();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
