/**
 * Email to a project's owner when an upload into it finishes: project, file
 * name, size, SHA-256 and the uploader's note. It rides on the tus
 * post-finish hook, in the background: the upload is already durable and
 * acknowledged, and a mail failure is only logged.
 */
import { getLogger } from "@logtape/logtape";
import type { TusHooks } from "../routes/tus_hooks.ts";
import { type AccountStore, mayLogIn } from "../storage/account_types.ts";
import type { DropoffStore, TusUpload } from "../storage/types.ts";
import type { Mailer, MailMessage } from "./mailer.ts";

const log = getLogger(["fieldgate", "mail"]);

/** Where the notice finds the owner and sends the mail. */
export interface UploadNoticeOptions {
  projects: DropoffStore;
  accounts: AccountStore;
  mailer: Mailer;
  /** Base URL of the download link, without a trailing slash. */
  publicUrl: () => string;
}

/** `hooks` plus the owner email after each finished upload. */
export function withOwnerNotice(hooks: TusHooks, options: UploadNoticeOptions): TusHooks {
  return {
    preCreate: (upload, clientMetadata, request) => hooks.preCreate(upload, clientMetadata, request),
    postFinish(upload, filePath, request) {
      hooks.postFinish(upload, filePath, request);
      notifyOwner(upload, options).catch((error) =>
        log.error("could not email the owner about upload {id} via {mailer}: {error}", {
          id: upload.id,
          mailer: options.mailer.description,
          error: String(error),
        })
      );
    },
  };
}

async function notifyOwner(upload: TusUpload, options: UploadNoticeOptions): Promise<void> {
  const project = await options.projects.project(upload.projectId);
  if (project === null) return;
  const owner = await options.accounts.byUsername(project.owner);
  if (owner === null || !mayLogIn(owner)) {
    log.info("upload {id} finished; its owner {owner} has no active account, so no email", {
      id: upload.id,
      owner: project.owner,
    });
    return;
  }
  await options.mailer.send(uploadFinishedMail(upload, project.name, owner.email, options.publicUrl()));
  log.info("emailed {owner} about finished upload {id}", { owner: owner.username, id: upload.id });
}

/** The notice for one finished upload. */
export function uploadFinishedMail(upload: TusUpload, projectName: string, to: string, baseUrl: string): MailMessage {
  // Client metadata: control characters other than line breaks and tabs could garble the text.
  const clean = (text: string | undefined) => text?.replace(/[^\P{Cc}\n\t]/gu, "?");
  const fileName = clean(upload.metadata.filename) ?? "(no file name)";
  const size = upload.length ?? upload.offset;
  return {
    to,
    subject: `Upload finished: ${fileName.replace(/\n/g, " ")} in ${projectName}`,
    text: `A file was uploaded into your project "${projectName}" (${upload.projectId}).

File name: ${fileName}
Size:      ${size} bytes (${humanSize(size)})
SHA-256:   ${upload.sha256}
Finished:  ${upload.finishedAt?.toISOString()}
Note from the uploader:
${clean(upload.metadata.note) ?? "(none)"}

Download (log in first): ${baseUrl}/api/projects/${upload.projectId}/uploads/${upload.id}/file
`,
  };
}

function humanSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
