import assert from "node:assert/strict";
import { join } from "node:path";

Deno.test("deploy/fieldgate.service passes systemd-analyze verify", async () => {
  const analyze = await new Deno.Command("sh", { args: ["-c", "command -v systemd-analyze"], stdout: "null" }).output();
  if (!analyze.success) {
    console.warn("!!! SKIPPED: systemd-analyze is not installed, deploy/fieldgate.service was not verified");
    return;
  }
  const dir = await Deno.makeTempDir();
  try {
    // The unit names the usual install path of deno; point it at this machine's deno for the check.
    const unit = (await Deno.readTextFile(new URL("../../deploy/fieldgate.service", import.meta.url)))
      .replace("/usr/local/bin/deno", Deno.execPath());
    const path = join(dir, "fieldgate.service");
    await Deno.writeTextFile(path, unit);
    const result = await new Deno.Command("systemd-analyze", {
      args: ["verify", path],
      stderr: "piped",
      stdout: "piped",
    })
      .output();
    const messages = new TextDecoder().decode(result.stderr) + new TextDecoder().decode(result.stdout);
    assert.equal(messages.trim(), "", messages);
    assert.ok(result.success);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
