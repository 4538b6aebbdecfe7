/**
 * Project management for owners (basic auth): create and list projects, list
 * a project's uploads, and download a finished upload. The upload directory
 * itself is never served; this route is the only way to the bytes.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AuthEnv } from "../auth/basic.ts";
import { hashUploadCode, isProjectId, parseAllowedTypes, type Project, safeFileName } from "../domain/dropoff.ts";
import { isUploadId } from "../domain/tus.ts";
import { MAX_ARMORED_KEY_CHARS, parsePublicKey } from "../domain/project_key.ts";
import { TusAtRest } from "../storage/tus_at_rest.ts";
import type { TusFileStore } from "../storage/tus_files.ts";
import type { DropoffStore, TusUpload } from "../storage/types.ts";

const newProject = z.object({
  name: z.string().trim().min(1).max(200),
  code: z.string().min(1).max(200).optional(),
  maxSizeBytes: z.number().int().positive().optional(),
  quotaBytes: z.number().int().positive().optional(),
  allowedTypes: z.array(z.string().max(20)).max(100).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  publicKey: z.string().max(MAX_ARMORED_KEY_CHARS).optional(),
});

/** Project management as a Hono sub-app behind `guard`. */
export function projectRoutes(
  store: DropoffStore,
  files: TusFileStore,
  guard: MiddlewareHandler<AuthEnv>,
): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const atRest = new TusAtRest(store, files);
  app.use("/api/projects", guard);
  app.use("/api/projects/*", guard);

  app.post("/api/projects", async (c) => {
    const body = newProject.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      const problems = body.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
      return c.json({ error: `invalid project: ${problems.join("; ")}` }, 400);
    }
    const types = parseAllowedTypes(body.data.allowedTypes ?? []);
    if (!types.ok) return c.json({ error: types.error }, 400);
    const key = body.data.publicKey === undefined ? null : await parsePublicKey(body.data.publicKey);
    if (key?.ok === false) return c.json({ error: `invalid project: publicKey: ${key.error}` }, 400);
    const project: Project = {
      id: crypto.randomUUID(),
      owner: c.get("user"),
      name: body.data.name,
      codeHash: body.data.code === undefined ? null : hashUploadCode(body.data.code),
      maxSizeBytes: body.data.maxSizeBytes ?? null,
      quotaBytes: body.data.quotaBytes ?? null,
      allowedTypes: types.value,
      expiresAt: body.data.expiresAt === undefined ? null : new Date(body.data.expiresAt),
      createdAt: new Date(),
      publicKey: body.data.publicKey ?? null,
    };
    await store.createProject(project);
    return c.json(projectJson(project), 201, { Location: `/api/projects/${project.id}` });
  });

  app.get("/api/projects", async (c) => c.json((await store.projects(c.get("user"))).map(projectJson)));

  /** The caller's own project, or a 404 that does not reveal whether someone else's exists. */
  async function ownProject(c: { get(key: "user"): string }, id: string): Promise<Project | null> {
    const project = isProjectId(id) ? await store.project(id) : null;
    return project?.owner === c.get("user") ? project : null;
  }

  app.get("/api/projects/:id/uploads", async (c) => {
    const project = await ownProject(c, c.req.param("id"));
    if (project === null) return c.json({ error: "no such project" }, 404);
    // Partial uploads are pieces of a file still being sent in parallel (tus concatenation): not files yet.
    const listed = (await store.uploads(project.id)).filter((upload) => upload.concat?.kind !== "partial");
    const sealed = (upload: TusUpload) => Boolean(project.publicKey) && atRest.isSealed(upload);
    return c.json(await Promise.all(listed.map(async (upload) => uploadJson(upload, await sealed(upload)))));
  });

  app.get("/api/projects/:id/uploads/:upload/file", async (c) => {
    const project = await ownProject(c, c.req.param("id"));
    const uploadId = c.req.param("upload");
    const upload = project && isUploadId(uploadId) ? await store.upload(uploadId) : null;
    if (upload === null || upload.projectId !== project?.id) return c.json({ error: "no such upload" }, 404);
    if (upload.finishedAt === null) return c.json({ error: "upload not finished yet" }, 409);
    // A project with a public key keeps only the ciphertext (tus_at_rest.ts): that is what the owner gets.
    const sealed = Boolean(project!.publicKey);
    if (sealed && !(await atRest.isSealed(upload))) {
      return c.json({ error: "upload is being encrypted at rest: try again in a minute" }, 409);
    }
    const file = sealed ? await atRest.openSealed(upload) : await files.open(upload.projectId, upload.id);
    const name = safeFileName(upload.metadata.filename, upload.id);
    // Files encrypted in the browser already arrive named `….gpg`.
    const suffix = sealed && !name.endsWith(".gpg") ? ".gpg" : "";
    return c.body(file.stream, 200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(file.size),
      "Content-Disposition": `attachment; filename="${name}${suffix}"`,
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
    });
  });
  return app;
}

function projectJson(project: Project) {
  return {
    id: project.id,
    name: project.name,
    owner: project.owner,
    uploadUrl: `/files/${project.id}/`,
    codeRequired: project.codeHash !== null,
    encryptedAtRest: Boolean(project.publicKey),
    maxSizeBytes: project.maxSizeBytes,
    quotaBytes: project.quotaBytes,
    allowedTypes: project.allowedTypes,
    expiresAt: project.expiresAt?.toISOString() ?? null,
    createdAt: project.createdAt.toISOString(),
  };
}

/** An upload as listed; `sealed`: it is kept encrypted at rest, and its `<id>.gpg` is complete. */
function uploadJson(upload: TusUpload, sealed: boolean) {
  return {
    id: upload.id,
    filename: upload.metadata.filename ?? null,
    note: upload.metadata.note ?? null,
    size: upload.length,
    received: upload.offset,
    sha256: upload.sha256,
    complete: upload.finishedAt !== null,
    encrypted: sealed,
    createdAt: upload.createdAt.toISOString(),
    finishedAt: upload.finishedAt?.toISOString() ?? null,
    diskName: `${upload.projectId}/${upload.id}${sealed ? ".gpg" : ""}`,
  };
}
