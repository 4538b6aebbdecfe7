/**
 * tus scenario: one large file (1 GiB by default) uploaded to fieldgate
 * (SQLite and PostgreSQL), to `@tus/server` + `@tus/file-store` on Node and to
 * a client ceiling that discards the bytes (bench/peers/ceiling_tus.ts), by
 * each client in turn (tus-js-client in its own process, curl PATCH), against
 * raw disk (`dd … conv=fsync` of the same file), in the same repetition. Every
 * stored file's sha256 must equal the source's; the server's RSS is sampled
 * every 250 ms during the upload.
 */
import { join } from "node:path";
import {
  type Contender,
  fieldgateContenders,
  measureContenders,
  type Measurement,
  ratiosAgainst,
} from "./lib/contenders.ts";
import { basicAuthHeader, type BenchContext } from "./lib/context.ts";
import { type Backend, startFieldgate } from "./lib/fieldgate.ts";
import { startDenoPeer } from "./lib/peer.ts";
import { type Child, runCommand } from "./lib/process.ts";
import { rssPoints, sampleRss } from "./lib/rss.ts";
import type { ScenarioResult } from "./lib/report.ts";
import { ratioSpread } from "./lib/stats.ts";
import { ScenarioTable, SERVER_CORES } from "./lib/table.ts";
import { type UploadClient, uploadIdOf, uploadTo } from "./lib/tus_clients.ts";
import { ensureTusNode, startTusNode } from "./lib/tus_node.ts";

/** How big and how often. */
export interface TusOptions {
  sizeMiB: number;
  /** Also 10 GiB, where `df` shows room for it. */
  tenGiB: boolean;
  /** Which clients upload, in this order. */
  clients: UploadClient[];
  repetitions: number;
  backends: Backend[];
}

/** Where a finished upload landed and how long it took. */
interface Uploaded {
  seconds: number;
  /** null where nothing is stored (the client ceiling). */
  storedPath: string | null;
}

/** Something that takes the file: a tus server, or the disk itself. */
interface TusTarget {
  /** Names the server in notes, e.g. "fieldgate sqlite". */
  label: string;
  /** The server process; null for raw disk. */
  child: Child | null;
  upload(client: UploadClient, source: string): Promise<Uploaded>;
  stop(): Promise<void>;
}

const CLIENT_LABELS: Record<UploadClient, string> = {
  "tus-js-client": "tus-js-client",
  curl: "curl PATCH",
  "curl-http1.1": "curl --http1.1 PATCH",
};
const MIB = 1024 ** 2;
const RAW_DISK = "raw disk: dd bs=1M conv=fsync";
const TUS_NODE = "@tus/server + FileStore (Node)";
const CEILING = "client ceiling: Deno.serve discards";
const DURABLE_LIMIT = "durable limit: raw disk ÷ @tus/server";
const UPLOAD_TIMEOUT_MS = 30 * 60_000;
/** The 10 GiB source, one stored copy at a time (each contender removes its files) and a margin. */
const TEN_GIB_NEEDS_GIB = 25;

const COLUMNS = [
  { key: "mibPerS", label: "MiB/s", digits: 0 },
  { key: "seconds", label: "seconds", digits: 2 },
  { key: "verified", label: "sha256 = source (1 = yes)", digits: 0 },
  SERVER_CORES,
  { key: "startRssMiB", label: "RSS at start MiB", digits: 0 },
  { key: "maxRssMiB", label: "RSS max (250 ms samples) MiB", digits: 0 },
  { key: "endRssMiB", label: "RSS at end MiB", digits: 0 },
];

/** What the targets share: the bench context, an HTTPS client trusting its certificate, the Node peer's directory. */
interface TusBench {
  context: BenchContext;
  http: Deno.HttpClient;
  nodeDir: string;
}

/** Runs every size with both clients; returns one table. */
export async function tusScenario(context: BenchContext, options: TusOptions): Promise<ScenarioResult> {
  const bench: TusBench = {
    context,
    http: Deno.createHttpClient({ caCerts: [context.caCert] }),
    nodeDir: await ensureTusNode(context),
  };
  const table = new ScenarioTable(
    "tus: one large upload over HTTPS (targets ≥ 2× @tus/server, ≥ 0.5× raw disk, RSS < 150 MB flat)",
    COLUMNS,
  );
  const sizesMiB = [options.sizeMiB];
  if (options.tenGiB) {
    const skipped = await tenGibibytesSkipped(context.root);
    if (skipped) {
      console.error(`\n*** tus: ${skipped} ***\n`);
      table.warn(skipped);
    } else sizesMiB.push(10 * 1024);
  }
  try {
    for (const sizeMiB of sizesMiB) await measureSize(bench, options, sizeMiB, table);
  } finally {
    bench.http.close();
  }
  return table.result;
}

/** Both client rounds for one file size; the source file exists only meanwhile. */
async function measureSize(bench: TusBench, options: TusOptions, sizeMiB: number, table: ScenarioTable) {
  const { context } = bench;
  const source = join(context.root, `tus-source-${sizeMiB}.bin`);
  // Random bytes, so a stored file that is wrong anywhere fails the sha256 check.
  await runCommand("sh", ["-c", `head -c ${sizeMiB * MIB} /dev/urandom > "$1"`, "sh", source], UPLOAD_TIMEOUT_MS);
  const sourceSha = await sha256File(source);
  try {
    for (const client of options.clients) {
      const contenders: Contender<TusTarget>[] = [
        ...fieldgateContenders(options.backends, (backend) => fieldgateTarget(bench, backend)),
        { server: TUS_NODE, backend: "-", start: () => tusNodeTarget(bench) },
        { server: CEILING, backend: "-", start: () => ceilingTarget(bench) },
        { server: RAW_DISK, backend: "-", start: () => rawDiskTarget(context) },
      ];
      const setup = `${formatSize(sizeMiB)}, ${CLIENT_LABELS[client]}`;
      const measured = await measureContenders(
        { scenario: "tus", setup, repetitions: options.repetitions, contenders },
        (target) => measure(bench.context, target, client, source, sourceSha, sizeMiB, table),
      );
      const [tusNode, ceiling, rawDisk] = measured.rows.slice(-3); // the peers come last, as listed above
      rawDisk.setup = `${formatSize(sizeMiB)}, same repetitions as ${CLIENT_LABELS[client]}`;
      table.add(measured, [
        ...ratiosAgainst(measured.rows, tusNode, "@tus/server", "mibPerS", "≥ 2"),
        ...ratiosAgainst(measured.rows, ceiling, "client ceiling", "mibPerS"),
        ...ratiosAgainst(measured.rows, rawDisk, "raw disk", "mibPerS", "≥ 0.5"),
        // The most any server that fsyncs before answering can reach against a peer that may not: below 2, the
        // 2× target is out of reach for a durable server on this machine.
        { label: DURABLE_LIMIT, setup, value: ratioSpread(rawDisk.runs, tusNode.runs, "mibPerS"), target: "" },
      ]);
    }
  } finally {
    await Deno.remove(source);
  }
}

async function measure(
  context: BenchContext,
  target: TusTarget,
  client: UploadClient,
  source: string,
  sourceSha: string,
  sizeMiB: number,
  table: ScenarioTable,
): Promise<Measurement> {
  await writeAndRemoveCopy(context, source, Math.min(sizeMiB, WARM_UP_MIB));
  const before = await target.child?.usage();
  const stopSampling = target.child ? sampleRss(target.child.pid) : () => [];
  const startedAt = performance.now();
  const uploaded = await target.upload(client, source);
  const wallS = (performance.now() - startedAt) / 1000;
  const samples = stopSampling();
  const after = await target.child?.usage();
  // The ceiling keeps no bytes: its row shows the client's limit, not a stored copy.
  const verified = uploaded.storedPath === null ? null : await sha256File(uploaded.storedPath) === sourceSha;
  const rss = samples.map((sample) => sample.rssMiB);
  if (target.child) {
    table.note(`RSS of ${target.label}, ${formatSize(sizeMiB)} by ${CLIENT_LABELS[client]}: ${rssPoints(samples)}`);
  }
  return {
    metrics: {
      mibPerS: sizeMiB / uploaded.seconds,
      seconds: uploaded.seconds,
      verified: verified === null ? NaN : verified ? 1 : 0,
      serverCores: before && after ? (after.cpuSeconds - before.cpuSeconds) / wallS : NaN,
      startRssMiB: rss[0] ?? NaN,
      maxRssMiB: rss.length > 0 ? Math.max(...rss) : NaN,
      endRssMiB: rss.at(-1) ?? NaN,
    },
    problems: verified === false ? [`the stored file's sha256 differs from the source's (${uploaded.storedPath})`] : [],
  };
}

async function fieldgateTarget(bench: TusBench, backend: Backend): Promise<TusTarget> {
  const server = await startFieldgate(bench.context, { backend, meter: false });
  const created = await fetch(`${server.url}/api/projects`, {
    method: "POST",
    headers: { authorization: basicAuthHeader(), "content-type": "application/json" },
    body: JSON.stringify({ name: "bench uploads" }),
    client: bench.http,
  });
  if (created.status !== 201) {
    const text = await created.text();
    await server.stop();
    throw new Error(`creating a project: ${created.status} ${text}`);
  }
  const project = await created.json() as { id: string };
  const endpoint = `${server.url}/files/${project.id}/`;
  return {
    label: `fieldgate ${backend}`,
    child: server.child,
    upload: async (client, source) => {
      const uploaded = await uploadTo(bench.context, bench.http, endpoint, client, source);
      const storedPath = join(server.dataDir, "uploads", project.id, uploadIdOf(uploaded.url));
      return { seconds: uploaded.seconds, storedPath };
    },
    stop: server.stop,
  };
}

async function tusNodeTarget(bench: TusBench): Promise<TusTarget> {
  const peer = await startTusNode(bench.context, bench.nodeDir);
  return {
    label: TUS_NODE,
    child: peer.child,
    upload: async (client, source) => {
      const uploaded = await uploadTo(bench.context, bench.http, peer.endpoint, client, source);
      return { seconds: uploaded.seconds, storedPath: join(peer.directory, uploadIdOf(uploaded.url)) };
    },
    async stop() {
      await peer.child.stop();
      await Deno.remove(peer.directory, { recursive: true });
    },
  };
}

/** The client's own limit: the same client and TLS, a server that reads and discards the body. */
async function ceilingTarget(bench: TusBench): Promise<TusTarget> {
  const peer = await startDenoPeer(bench.context, "ceiling_tus.ts");
  return {
    label: CEILING,
    child: peer.child,
    upload: async (client, source) => {
      const endpoint = `https://127.0.0.1:${peer.port}/files/`;
      const uploaded = await uploadTo(bench.context, bench.http, endpoint, client, source);
      return { seconds: uploaded.seconds, storedPath: null };
    },
    async stop() {
      await peer.child.stop();
    },
  };
}

/** The disk's own rate for the same bytes: `dd` copies the source and fsyncs before it exits. */
async function rawDiskTarget(context: BenchContext): Promise<TusTarget> {
  const directory = await context.newDir("raw-disk-");
  return {
    label: RAW_DISK,
    child: null,
    upload: async (_client, source) => {
      const storedPath = join(directory, "copy.bin");
      const startedAt = performance.now();
      await runCommand("dd", [`if=${source}`, `of=${storedPath}`, "bs=1M", "conv=fsync"], UPLOAD_TIMEOUT_MS);
      return { seconds: (performance.now() - startedAt) / 1000, storedPath };
    },
    stop: () => Deno.remove(directory, { recursive: true }),
  };
}

/**
 * Before every upload, unmeasured: copies up to this much of the source and removes the copy, so that every contender
 * starts from the same state, with memory just freed. On these VMs memory freed a while ago goes back to the host, and
 * touching it again costs about a vCPU-second per GiB (bench/README.md "tus: what a new page-cache page costs").
 * Without it the first contender of a run was the slowest of its repetitions every time, and a contender after
 * fieldgate (which leaves no upload pages in the page cache) started colder than one after a server that leaves them.
 */
const WARM_UP_MIB = 1024;

async function writeAndRemoveCopy(context: BenchContext, source: string, mib: number): Promise<void> {
  const directory = await context.newDir("warm-up-");
  try {
    const copy = join(directory, "copy.bin");
    await runCommand("dd", [`if=${source}`, `of=${copy}`, "bs=1M", `count=${mib}`, "conv=fsync"], UPLOAD_TIMEOUT_MS);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

async function sha256File(path: string): Promise<string> {
  // OpenSSL uses the CPU's SHA extensions: several times faster than coreutils' sha256sum on 1 GiB.
  return (await runCommand("openssl", ["dgst", "-sha256", "-r", path], UPLOAD_TIMEOUT_MS)).split(" ")[0];
}

function formatSize(sizeMiB: number): string {
  return sizeMiB % 1024 === 0 ? `${sizeMiB / 1024} GiB` : `${sizeMiB} MiB`;
}

/** Why the 10 GiB upload cannot run (`df` shows too little free space under `directory`), or null when it can. */
async function tenGibibytesSkipped(directory: string): Promise<string | null> {
  const output = await runCommand("df", ["--output=avail", "-B1", directory], 10_000);
  const availableGiB = Number(output.trim().split("\n").at(-1)) / 1024 ** 3;
  return availableGiB >= TEN_GIB_NEEDS_GIB
    ? null
    : `SKIPPED the 10 GiB upload: df shows ${
      availableGiB.toFixed(1)
    } GiB free under ${directory}, it needs ${TEN_GIB_NEEDS_GIB} GiB (source + one stored copy + margin)`;
}
