/** The contract against a real PostgreSQL server, one fresh database per case. */
import postgres from "postgres";
import { openPostgresStore } from "../../storage/postgres/store.ts";
import { createTestDatabase } from "../helpers/postgres.ts";
import { accountStoreContract } from "./account_store_contract.ts";
import { cmxSharedStoreContract, cmxStoreContract } from "./cmx_store_contract.ts";
import { confoStoreContract } from "./confo_store_contract.ts";
import { dropoffStoreContract } from "./dropoff_store_contract.ts";
import type { ContractDatabase } from "./harness.ts";
import { meterStoreContract } from "./meter_store_contract.ts";
import { ottStoreContract } from "./ott_store_contract.ts";

async function freshDatabase(): Promise<ContractDatabase> {
  const database = await createTestDatabase();
  let inspector: postgres.Sql | undefined;
  return {
    open: (commit) => openPostgresStore(database.url, commit),
    inspect: async (sql) => {
      inspector ??= postgres(database.url, { max: 1, onnotice: () => {} });
      return [...await inspector.unsafe(sql)];
    },
    cleanup: async () => {
      try {
        await inspector?.end({ timeout: 0 });
      } finally {
        await database.drop();
      }
    },
  };
}

ottStoreContract("postgres", freshDatabase);
meterStoreContract("postgres", freshDatabase, { idsInArrivalOrder: false });
confoStoreContract("postgres", freshDatabase);
cmxStoreContract("postgres", freshDatabase);
cmxSharedStoreContract("postgres", freshDatabase);
dropoffStoreContract("postgres", freshDatabase);
accountStoreContract("postgres", freshDatabase);
