/** An API answer that is not a 2xx, with the documented error's code and message when it has one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * GET one of the app's own JSON routes from the browser, with the session cookie. `signal` is the
 * query function's AbortSignal: TanStack Query aborts it when the answer is no longer wanted (a
 * newer keystroke), so a slow old search cannot land after a newer one.
 */
export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, { signal, headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(response.status, body?.error?.code ?? 'error', body?.error?.message ?? response.statusText);
  }
  return (await response.json()) as T;
}
