/**
 * Both mailers for real: the file outbox writes whole .eml files a mail reader
 * understands, and SMTP delivers through a real SMTP server (npm smtp-server)
 * with STARTTLS and a login, trusting a private CA.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// @ts-types="npm:@types/smtp-server@3.5.13"
import { SMTPServer } from "smtp-server";
import { ConfigError, loadConfig } from "../../config.ts";
import { openMailer } from "../../mail/mailer.ts";
import { makeTestPki } from "../helpers/openssl_ca.ts";

const MESSAGE = { to: "Owner <owner@example.org>", subject: "Upload finished: ünïcode.csv", text: "Größe: 5 bytes\n" };

Deno.test("the file outbox writes one complete .eml file per message, readable only by its owner", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-outbox-" });
  try {
    const config = loadConfig({ overrides: { dataDir } });
    assert.equal(config.mail.outboxDir, join(dataDir, "outbox"), "the default outbox lies in the data dir");
    const mailer = await openMailer(config.mail);
    await mailer.send(MESSAGE);
    await mailer.send({ ...MESSAGE, subject: "second" });
    const names = (await Array.fromAsync(Deno.readDir(config.mail.outboxDir))).map((entry) => entry.name).sort();
    assert.equal(names.length, 2, `no temp files are left: ${names}`);
    assert.ok(names.every((name) => /^\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z-[0-9a-f-]{36}\.eml$/.test(name)), names.join());
    const path = join(config.mail.outboxDir, names[0]);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const eml = await Deno.readTextFile(path);
    assert.match(eml, /^From: fieldgate <fieldgate@localhost>$/m);
    assert.match(eml, /^To: Owner <owner@example.org>$/m);
    assert.match(eml, /^Subject: =\?UTF-8\?[QB]\?/m, "the non-ASCII subject is RFC 2047 encoded");
    assert.match(eml, /^Content-Type: text\/plain; charset=utf-8$/m);
    assert.ok(eml.includes("Gr=C3=B6=C3=9Fe: 5 bytes"), "the body is quoted-printable UTF-8");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("SMTP delivers through a real server with STARTTLS and login; a refused login is an error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-smtp-" });
  const received: { from: string; to: string[]; data: string; user: string | undefined; secure: boolean }[] = [];
  const pki = await makeTestPki(dir, "smtp");
  const server = new SMTPServer({
    key: await Deno.readTextFile(pki.keyFile),
    cert: await Deno.readTextFile(pki.leafFile),
    authMethods: ["PLAIN", "LOGIN"],
    // Without TLS no login is offered: the mailer must upgrade before sending the password.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === "mailer" && auth.password === "s3cret p@ss") return callback(null, { user: "mailer" });
      callback(new Error("535 wrong password"));
    },
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          data: new TextDecoder().decode(Uint8Array.from(chunks.flatMap((chunk) => [...chunk]))),
          user: session.user as string | undefined,
          secure: session.secure,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  const mail = (password: string) =>
    loadConfig({
      overrides: {
        dataDir: dir,
        mail: {
          smtpUrl: `smtp://mailer:${encodeURIComponent(password)}@localhost:${port}`,
          smtpCaFile: pki.caFile,
          from: "fieldgate <noreply@example.org>",
        },
      },
    }).mail;
  try {
    const mailer = await openMailer(mail("s3cret p@ss"));
    assert.equal(mailer.description, `SMTP smtp://localhost:${port}`, "the description shows no password");
    await mailer.send(MESSAGE);
    mailer.close();
    assert.equal(received.length, 1);
    assert.deepEqual(
      { ...received[0], data: undefined },
      { from: "noreply@example.org", to: ["owner@example.org"], data: undefined, user: "mailer", secure: true },
    );
    assert.match(received[0].data, /^Subject: =\?UTF-8\?[QB]\?/m);
    assert.ok(received[0].data.includes("Gr=C3=B6=C3=9Fe: 5 bytes"));

    const refused = await openMailer(mail("wrong"));
    await assert.rejects(refused.send(MESSAGE), /535|auth/i);
    refused.close();
    assert.equal(received.length, 1, "nothing was delivered without a valid login");
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mail settings are checked at start-up: only smtp:// and smtps:// URLs", () => {
  for (const smtpUrl of ["http://mail.example.org", "mail.example.org:25"]) {
    assert.throws(
      () => loadConfig({ overrides: { mail: { smtpUrl } } }),
      (error) =>
        error instanceof ConfigError &&
        /"mail\.smtpUrl" \(--mail-smtp-url, FIELDGATE_MAIL_SMTP_URL\)/.test(error.message),
      smtpUrl,
    );
  }
  assert.equal(
    loadConfig({ overrides: { mail: { smtpUrl: "smtps://u:p@mail.example.org" } } }).mail.smtpUrl,
    "smtps://u:p@mail.example.org",
  );
});
