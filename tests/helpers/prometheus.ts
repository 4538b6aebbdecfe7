/**
 * Parses Prometheus exposition text with the official Python client's parser
 * (Debian's python3-prometheus-client, which `.ci/run` installs), so the format
 * is checked by an implementation other than ours.
 */

/** One parsed sample. */
export interface PrometheusSample {
  family: string;
  type: string;
  name: string;
  labels: Record<string, string>;
  value: number;
}

const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
print(json.dumps([
    {"family": f.name, "type": f.type, "name": s.name, "labels": s.labels, "value": s.value}
    for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples
]))
`;

/** Every sample of `text`; throws with the parser's message if the text is not valid exposition format. */
export async function parsePrometheus(text: string): Promise<PrometheusSample[]> {
  const child = new Deno.Command("/usr/bin/python3", {
    args: ["-c", PARSE],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(`not valid Prometheus text: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** The value of the one sample named `name` with exactly `labels`; throws if there is none. */
export function sampleValue(samples: PrometheusSample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels));
  if (found.length !== 1) throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}`);
  return found[0].value;
}
