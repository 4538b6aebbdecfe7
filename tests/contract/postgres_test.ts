/** The contract against a real PostgreSQL server, one fresh database per case. */
import { openPostgresStore } from "../../storage/postgres/store.ts";
import { createTestDatabase } from "../helpers/postgres.ts";
import { ottStoreContract } from "./ott_store_contract.ts";

ottStoreContract("postgres", async () => {
  const database = await createTestDatabase();
  return {
    open: (commit) => openPostgresStore(database.url, commit),
    cleanup: database.drop,
  };
});
