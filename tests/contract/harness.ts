/**
 * What the contract suites share: a fresh database per case from the
 * adapter's test file, stores opened on it and closed afterwards.
 */
import type { GroupCommitOptions } from "../../storage/group_commit.ts";
import type { RecordStore } from "../../storage/types.ts";

/** A fresh, empty database for one contract case. */
export interface ContractDatabase {
  /** Opens a store on this database; may be called again to reopen it or to open a second store. */
  open(commit: GroupCommitOptions): Promise<RecordStore>;
  /**
   * Test-only read access for what the interfaces do not show (such as
   * `pub.creator` or `csub`). Queries must be plain SQL both backends accept;
   * integer columns may come back as strings (PostgreSQL bigint).
   */
  inspect(sql: string): Promise<Record<string, unknown>[]>;
  /** Deletes the database; every store opened on it is closed first. */
  cleanup(): Promise<void>;
}

/** Opens a store on the case's database, with the contract's default group commit unless overridden. */
export type OpenStore = (commit?: Partial<GroupCommitOptions>) => Promise<RecordStore>;

/** Test-only SQL against the case's database (see {@link ContractDatabase.inspect}). */
export type Inspect = ContractDatabase["inspect"];

/** Group commit used by contract cases unless a case overrides it. */
export const DEFAULT_COMMIT: GroupCommitOptions = { maxDelayMs: 2, maxBatch: 500 };

/** Returns the function registering one case named `<name> contract: <case>` on a fresh database. */
export function contractCases(
  name: string,
  freshDatabase: () => Promise<ContractDatabase>,
): (caseName: string, body: (open: OpenStore, inspect: Inspect) => Promise<void>) => void {
  return (caseName, body) =>
    Deno.test(`${name} contract: ${caseName}`, async () => {
      const database = await freshDatabase();
      const opened: RecordStore[] = [];
      try {
        await body(async (commit) => {
          const store = await database.open({ ...DEFAULT_COMMIT, ...commit });
          opened.push(store);
          return store;
        }, (sql) => database.inspect(sql));
      } finally {
        try {
          await Promise.all(opened.map((store) => store.close()));
        } finally {
          await database.cleanup();
        }
      }
    });
}
