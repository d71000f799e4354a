/**
 * DAP 2.0 error responses (§7.2.4): `Error { code = N; message = "..."; };` as text/plain with
 * `Content-Description: dods_error`, which netCDF-C prints to the user.
 */
export class DapError extends Error {
  override readonly name = 'DapError';
  constructor(
    /** HTTP status; also the DAP error code. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Headers every DAP response carries. */
export function dapHeaders(description: string, version: string): Record<string, string> {
  return {
    'content-description': description,
    'xdods-server': `strato/${version}`,
    'xopendap-server': `strato/${version}`,
    xdap: '2.0',
  };
}

export function dapErrorText(status: number, message: string): string {
  // Clients print the message as sent, escapes included: write double quotes as single ones.
  const escaped = message.replace(/\\/g, '/').replace(/"/g, "'");
  return `Error {\n    code = ${status};\n    message = "${escaped}";\n};\n`;
}

export function dapErrorResponse(error: DapError, version: string): Response {
  return new Response(dapErrorText(error.status, error.message), {
    status: error.status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...dapHeaders('dods_error', version) },
  });
}
