/**
 * The embedded digits data in the browser: the package's own `data/digits.csv.gz`, bundled
 * as an asset, decompressed with the platform's `DecompressionStream` and parsed by the
 * library's `parseDigits`. Split as the library's examples split it (20% test, seed 0).
 */
import { parseDigits, type Split, stratifiedSplit } from "../../src/data/index.js";

/** Decompresses gzip bytes (the file, unless a server already undid the encoding). */
async function gunzip(bytes: Uint8Array): Promise<string> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    return new TextDecoder().decode(bytes);
  }
  const stream = new Blob([bytes as BlobPart])
    .stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

/** Fetches and parses the digits set from `url` and splits it. */
export async function loadDigitsSplit(url: string): Promise<Split> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load the digits data (${response.status})`);
  const text = await gunzip(new Uint8Array(await response.arrayBuffer()));
  return stratifiedSplit(parseDigits(text, "digits.csv.gz"), { testFraction: 0.2, seed: 0 });
}
