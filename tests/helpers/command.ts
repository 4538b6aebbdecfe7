/** Running system commands from tests (mount, pg_ctl, ...). */

/** Runs `command` to completion; rejects with its exit code and stderr (or stdout) when it fails. */
export async function run(command: string, ...args: string[]): Promise<void> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr) || new TextDecoder().decode(output.stdout);
    throw new Error(`${command} ${args.join(" ")} exited with ${output.code}: ${text.trim()}`);
  }
}
