/** The contract against SQLite, one fresh database file per case. */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openSqliteStore } from "../../storage/sqlite/store.ts";
import { accountStoreContract } from "./account_store_contract.ts";
import { cmxStoreContract } from "./cmx_store_contract.ts";
import { confoStoreContract } from "./confo_store_contract.ts";
import { dropoffStoreContract } from "./dropoff_store_contract.ts";
import type { ContractDatabase } from "./harness.ts";
import { meterStoreContract } from "./meter_store_contract.ts";
import { ottStoreContract } from "./ott_store_contract.ts";

async function freshDatabase(): Promise<ContractDatabase> {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-contract-" });
  const path = join(dir, "fieldgate.sqlite");
  return {
    open: (commit) => openSqliteStore(path, commit),
    inspect: (sql) =>
      Promise.try(() => {
        const db = new DatabaseSync(path, { readOnly: true });
        try {
          return db.prepare(sql).all() as Record<string, unknown>[];
        } finally {
          db.close();
        }
      }),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

ottStoreContract("sqlite", freshDatabase);
meterStoreContract("sqlite", freshDatabase, { idsInArrivalOrder: true });
confoStoreContract("sqlite", freshDatabase);
cmxStoreContract("sqlite", freshDatabase);
dropoffStoreContract("sqlite", freshDatabase);
accountStoreContract("sqlite", freshDatabase);
