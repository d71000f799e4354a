/**
 * Errors as RFC 9457 problem documents (`application/problem+json`). Throw an HttpProblem from
 * any route; the app's error handler renders it. Anything else becomes a 500 without details.
 */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
}

export function problemResponse(problem: HttpProblem, instance?: string): Response {
  const document: ProblemDocument = {
    type: 'about:blank',
    title: problem.title,
    status: problem.status,
    ...(problem.detail ? { detail: problem.detail } : {}),
    ...(instance ? { instance } : {}),
  };
  return new Response(JSON.stringify(document), {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...problem.headers },
  });
}

export const notFound = (detail: string): HttpProblem => new HttpProblem(404, 'Not Found', detail);
export const badRequest = (detail: string): HttpProblem => new HttpProblem(400, 'Bad Request', detail);
