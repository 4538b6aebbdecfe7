/**
 * What fieldgate needs stored, not how. Adapters: `sqlite/` (embedded default)
 * and `postgres/`; both pass the same contract tests in `tests/contract/`.
 * Each protocol's part is a file of its own (`*_types.ts`); this module
 * gathers them, so callers import every storage type from one place.
 */
import type { AccountStore } from "./account_types.ts";
import type { CmxStore } from "./cmx_types.ts";
import type { ConfoStore } from "./confo_types.ts";
import type { DropoffStore } from "./dropoff_types.ts";
import type { MeterStore } from "./meter_types.ts";
import type { OttStore } from "./ott_types.ts";

export type * from "./cmx_types.ts";
export type * from "./confo_types.ts";
export type * from "./dropoff_types.ts";
export type * from "./meter_types.ts";
export type * from "./ott_types.ts";
export { UnknownPubError } from "./meter_types.ts";

/** The record store: one database holding every protocol's rows. */
export interface RecordStore {
  /** `sqlite` or `postgres`, for logs and the status page. */
  readonly backend: "sqlite" | "postgres";
  /** Where the data lives, safe to show (no password). */
  readonly location: string;
  readonly ott: OttStore;
  readonly meters: MeterStore;
  readonly confo: ConfoStore;
  readonly cmx: CmxStore;
  readonly dropoff: DropoffStore;
  /** Web accounts, their email tokens and sessions. */
  readonly accounts: AccountStore;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Finishes pending commits and closes the connection. */
  close(): Promise<void>;
}
