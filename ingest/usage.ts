/** A wrong command line of `strato ingest` (exit 2 with the help). */
export class UsageError extends Error {}

/** A usage error (ours or parseArgs') as `strato ingest` reports it: the message, the help, exit 2; anything else is rethrown. */
export function usageFailure(error: unknown, stderr: { write(text: string): unknown }, help: string): 2 {
  const code = (error as { code?: string }).code;
  if (error instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
    stderr.write(`strato ingest: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  throw error;
}
