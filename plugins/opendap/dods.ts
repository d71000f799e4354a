import { chunkCount } from '../../kerchunk/array-reader.js';
import { type Slice, sliceLength } from '../../kerchunk/array-values.js';
import { currentBudget, type RequestBudget, withBudget } from '../../kerchunk/request-budget.js';
import { wireBytes } from './dap-types.js';
import type { DapArray } from './dataset-model.js';
import { hyperslabPieces } from './pieces.js';
import type { FieldSelection, SelectedVariable } from './projection.js';
import { xdrArrayHeader, xdrArraySize, xdrPadding, xdrScalar, xdrScalarSize, xdrValues } from './xdr.js';

/** Total bytes of a `.dods` response: the DDS, `Data:\n`, then every field in XDR. */
export function dodsSize(ddsBytes: number, selected: readonly SelectedVariable[]): number {
  let size = ddsBytes + DATA_MARKER.length;
  for (const field of fieldsOf(selected)) size += fieldSize(field);
  return size;
}

export function fieldSize({ array, slices }: FieldSelection): number {
  if (array.dims.length === 0) return xdrScalarSize(array.type);
  return xdrArraySize(
    array.type,
    slices.reduce((n, s) => n * sliceLength(s), 1),
  );
}

export interface DodsStreamOptions {
  /** Values per read (bounds the memory of one response). */
  readonly pieceBytes: number;
  /** Pieces read ahead of the one being sent. */
  readonly readAhead: number;
  /** Called once when reading fails after the response started (the client sees a cut response). */
  readonly onError?: (error: unknown) => void;
}

const DATA_MARKER = new TextEncoder().encode('Data:\n');

type Task = Uint8Array | (() => Promise<Uint8Array>);

/**
 * The `.dods` body as a stream: the DDS text, `Data:\n`, then the fields in DDS order, each read
 * through `ArrayValues.read` piece by piece (a few pieces ahead) and encoded as XDR. Resolves
 * once the first values are read, so a source that cannot be read fails the request before any
 * byte is sent. Cancelling the stream (client gone) aborts the reads in flight.
 */
export async function dodsStream(dds: string, selected: readonly SelectedVariable[], options: DodsStreamOptions): Promise<ReadableStream<Uint8Array>> {
  // The body is read after the route returned: its reads keep counting against this request's budget.
  const budget = currentBudget();
  const abort = new AbortController();
  const tasks = budgeted(budget, dodsTasks(new TextEncoder().encode(dds), fieldsOf(selected), options.pieceBytes, AbortSignal.any([abort.signal, budget.signal])));
  const inFlight: Array<Promise<Uint8Array> | Uint8Array> = [];
  const fill = () => {
    let pendingReads = inFlight.filter((t) => t instanceof Promise).length;
    while (pendingReads <= options.readAhead) {
      const next = tasks.next();
      if (next.done) return;
      if (next.value instanceof Uint8Array) {
        inFlight.push(next.value);
        continue;
      }
      const started = next.value();
      started.catch(() => undefined); // awaited in order below; keep early failures from being "unhandled"
      inFlight.push(started);
      pendingReads++;
    }
  };
  fill();
  // Everything before the first read (DDS, prefixes), and the first read itself, before answering.
  const head: Uint8Array[] = [];
  try {
    while (inFlight.length > 0) {
      const first = inFlight.shift() as Promise<Uint8Array> | Uint8Array;
      const bytes = await first;
      head.push(bytes);
      if (first instanceof Promise) break;
    }
  } catch (error) {
    abort.abort();
    throw error;
  }
  let ended = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        for (const bytes of head) if (bytes.length > 0) controller.enqueue(bytes);
      },
      async pull(controller) {
        if (ended) return;
        fill();
        const next = inFlight.shift();
        if (next === undefined) {
          ended = true;
          controller.close();
          return;
        }
        try {
          const bytes = await next;
          if (!ended && bytes.length > 0) controller.enqueue(bytes);
        } catch (error) {
          if (ended) return; // cancelled meanwhile: the read was aborted on purpose
          ended = true;
          abort.abort();
          options.onError?.(error);
          controller.error(error);
        }
      },
      cancel() {
        ended = true;
        abort.abort();
      },
    },
    { highWaterMark: 1 },
  );
}

/** Chunks a `.dods` answer touches, all fields together (known before any is read). */
export function dodsChunkCount(selected: readonly SelectedVariable[]): number {
  let count = 0;
  for (const { array, slices } of fieldsOf(selected)) count += array.dims.length === 0 ? 1 : chunkCount(slices, array.values.chunks);
  return count;
}

/** The tasks, each read run within `budget` (the stream pulls from outside the request's context). */
function* budgeted(budget: RequestBudget, tasks: Generator<Task>): Generator<Task> {
  for (const task of tasks) yield task instanceof Uint8Array ? task : () => withBudget(budget, task);
}

function* dodsTasks(dds: Uint8Array, fields: Iterable<FieldSelection>, pieceBytes: number, signal: AbortSignal): Generator<Task> {
  yield concat([dds, DATA_MARKER]);
  for (const { array, slices } of fields) {
    if (array.dims.length === 0) {
      yield () => readPiece(array, [], 1, signal).then((values) => xdrScalar(array.type, values));
      continue;
    }
    const count = slices.reduce((n, s) => n * sliceLength(s), 1);
    yield xdrArrayHeader(count);
    const maxElements = Math.max(1, Math.floor(pieceBytes / wireBytes(array.type)));
    for (const piece of hyperslabPieces(slices, array.values.chunks, maxElements)) {
      const expected = piece.reduce((n, s) => n * sliceLength(s), 1);
      yield () => readPiece(array, piece, expected, signal).then((values) => xdrValues(array.type, values));
    }
    const padding = array.type === 'Byte' ? xdrPadding(count) : 0;
    if (padding > 0) yield new Uint8Array(padding);
  }
}

async function readPiece(array: DapArray, piece: readonly Slice[], expected: number, signal: AbortSignal) {
  const values = await array.values.read(piece, signal);
  if (values.length !== expected) {
    throw new Error(`reading "${array.name}" gave ${values.length} values for a piece of ${expected}`);
  }
  return values;
}

function* fieldsOf(selected: readonly SelectedVariable[]): Generator<FieldSelection> {
  for (const variable of selected) yield* variable.fields;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
