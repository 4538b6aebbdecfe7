/** Command-line helpers shared by the operator CLIs (`deno task maintenance`, `deploy-config`, `backup`). */

/** Splits `--name value` (or `--name=value`) pairs this CLI owns from the server options. */
export function takeOptions(args: string[], names: string[]): { values: Map<string, string>; rest: string[] } {
  const values = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i].split(/=(.*)/s, 2);
    if (names.includes(name)) values.set(name, inline ?? args[++i] ?? "");
    else rest.push(args[i]);
  }
  return { values, rest };
}
