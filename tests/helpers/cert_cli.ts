/** `deno task cert …` run the way an operator runs it: a separate process. */

/** Exit code and output of one `deno task cert` run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cli/cert.ts` with `args` in a child process. */
export async function certCli(...args: string[]): Promise<CliResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/cert.ts", ...args],
    cwd: new URL("../..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}
