import { join } from "node:path";
import { openSqliteStore } from "../../storage/sqlite/store.ts";
import { ottStoreContract } from "./ott_store_contract.ts";

ottStoreContract("sqlite", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-contract-" });
  const path = join(dir, "fieldgate.sqlite");
  return {
    open: (commit) => openSqliteStore(path, commit),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});
