/**
 * Outgoing hooks compatible with the original drop-off (tusd hooks forwarded to
 * Django's `/datadrops/webhook/`): a POST of tusd's hook JSON with a `HOOK-NAME`
 * header and the back end's API token. A `pre-create` answer other than 200
 * refuses the upload; `post-finish` is a notice sent after the upload is durable.
 */
import { getLogger } from "@logtape/logtape";
import type { TusMetadata } from "../domain/tus.ts";
import type { TusUpload } from "../storage/types.ts";

const log = getLogger(["fieldgate", "tus", "hook"]);
const TIMEOUT_MS = 10_000;
/** Request headers never forwarded: credentials. */
const SECRET_HEADERS = new Set(["authorization", "cookie", "upload-code"]);

/** The request a hook describes, as tusd reports it. */
export interface HookRequest {
  method: string;
  uri: string;
  remoteAddr: string;
  headers: Headers;
}

/** The hooks the tus routes call. */
export interface TusHooks {
  /** Resolves `allowed` (the back end answered 200), `refused`, or `unreachable`. */
  preCreate(upload: TusUpload, clientMetadata: TusMetadata, request: HookRequest): Promise<PreCreateAnswer>;
  /** Sends the notice in the background; never throws. */
  postFinish(upload: TusUpload, filePath: string, request: HookRequest): void;
}

/** What the pre-create hook decided. */
export type PreCreateAnswer = "allowed" | "refused" | "unreachable";

/** Hooks posting to `url` with `Authorization: Token <token>` (Django REST framework's form); empty url = none. */
export function tusHooks(url: string, token: string): TusHooks {
  if (url === "") return { preCreate: () => Promise.resolve("allowed"), postFinish: () => {} };
  const post = (name: string, payload: unknown) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "HOOK-NAME": name,
        ...(token === "" ? {} : { authorization: `Token ${token}` }),
      },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  return {
    async preCreate(upload, clientMetadata, request) {
      // The original back end checks the upload code itself: it gets the metadata the client sent.
      try {
        const response = await post(
          "pre-create",
          hookPayload(upload, { ...clientMetadata, ...upload.metadata }, null, request),
        );
        await response.body?.cancel();
        if (response.status === 200) return "allowed";
        log.warn("pre-create hook refused upload into project {project}: {status}", {
          project: upload.projectId,
          status: response.status,
        });
        return "refused";
      } catch (error) {
        log.error("pre-create hook {url} failed: {error}", { url, error: String(error) });
        return "unreachable";
      }
    },
    postFinish(upload, filePath, request) {
      post("post-finish", hookPayload(upload, upload.metadata, filePath, request)).then(async (response) => {
        await response.body?.cancel();
        if (response.status !== 200) {
          log.error("post-finish hook answered {status} for upload {id}; the upload is stored", {
            status: response.status,
            id: upload.id,
          });
        }
      }).catch((error) => log.error("post-finish hook {url} failed: {error}", { url, error: String(error) }));
    },
  };
}

/** tusd's hook JSON (v1 field names, which the original's Django view reads). */
function hookPayload(upload: TusUpload, metadata: TusMetadata, filePath: string | null, request: HookRequest) {
  const header: Record<string, string[]> = {};
  for (const [name, value] of request.headers) {
    if (!SECRET_HEADERS.has(name)) header[name.replace(/(^|-)[a-z]/g, (s) => s.toUpperCase())] = [value];
  }
  return {
    Upload: {
      ID: upload.id,
      Size: upload.length ?? 0,
      SizeIsDeferred: upload.length === null,
      Offset: upload.offset,
      MetaData: metadata,
      IsPartial: upload.concat?.kind === "partial",
      IsFinal: upload.concat?.kind === "final",
      PartialUploads: upload.concat?.kind === "final" ? upload.concat.partIds : null,
      Storage: filePath === null ? null : { Type: "filestore", Path: filePath },
    },
    HTTPRequest: { Method: request.method, URI: request.uri, RemoteAddr: request.remoteAddr, Header: header },
  };
}
