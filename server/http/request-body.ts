import { concatBytes } from '../../kerchunk/concat-bytes.js';

/**
 * A request body read with a size limit: a declared Content-Length over the limit is refused
 * before reading, and so is a body that grows past it while streaming (chunked uploads declare
 * nothing), so a client can never make the server buffer more than `limitBytes`.
 */
export async function readBodyLimited(request: Request, limitBytes: number, tooLarge: () => Error): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limitBytes) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(value);
  }
  return concatBytes(parts, total);
}
