/** Every drop-off project, for the admin pages: the store lists projects per owner only. */
import type { Project } from "../domain/dropoff.ts";
import type { AccountStore } from "../storage/account_types.ts";
import type { DropoffStore } from "../storage/types.ts";

/**
 * The projects of every account and logger, grouped by owner. Owners are
 * accounts or, from before accounts existed, users-file names; a query per
 * owner is fine on pages only admins open.
 */
export async function allProjects(
  accounts: AccountStore,
  loggers: { list(): Promise<{ user: string }[]> },
  dropoff: DropoffStore,
): Promise<Project[]> {
  const [people, users] = await Promise.all([accounts.list(), loggers.list()]);
  const owners = new Set([...people.map((account) => account.username), ...users.map((user) => user.user)]);
  return (await Promise.all([...owners].map((owner) => dropoff.projects(owner)))).flat();
}
