/** A server's resident memory over time: `VmRSS` sampled from `/proc` at a fixed interval. */
import { processUsage } from "./process.ts";

/** One sample: milliseconds since sampling started and the RSS then. */
export interface RssSample {
  ms: number;
  rssMiB: number;
}

const INTERVAL_MS = 250;

/** Samples the RSS of `pid` (and its children) every 250 ms until the returned function is called. */
export function sampleRss(pid: number): () => RssSample[] {
  const samples: RssSample[] = [];
  const started = performance.now();
  const take = () =>
    processUsage(pid).then(
      (usage) => samples.push({ ms: performance.now() - started, rssMiB: usage.rssMiB }),
      // The process may exit between samples; the series just ends.
      () => {},
    );
  take();
  const timer = setInterval(take, INTERVAL_MS);
  return () => {
    clearInterval(timer);
    return samples;
  };
}

/** Up to `count` samples spread evenly over the series (first and last included), as "t s: N MiB". */
export function rssPoints(samples: RssSample[], count = 5): string {
  if (samples.length === 0) return "no samples";
  const step = Math.max(1, (samples.length - 1) / (count - 1));
  const picked = new Set<RssSample>();
  for (let i = 0; i < samples.length; i += step) picked.add(samples[Math.round(i)]);
  picked.add(samples.at(-1)!);
  return [...picked].map((sample) => `${(sample.ms / 1000).toFixed(1)} s: ${sample.rssMiB.toFixed(0)} MiB`).join(", ");
}
