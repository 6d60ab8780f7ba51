// The admin API as the dashboard calls it: same-origin fetch with the session
// cookie, the CSRF token on every change, and errors as `ApiError` carrying the
// server's code and field details (the UI switches on `code`, never on text).
import type { components } from './api.d';

export type Schemas = components['schemas'];
export type Me = Schemas['Me'];
export type ObjectView = Schemas['ObjectView'];

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

let csrf = '';
let onUnauthenticated: () => void = () => {};

export function whenSignedOut(fn: () => void): void {
  onUnauthenticated = fn;
}

export async function call<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let r: Response;
  try {
    r = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await r.text();
  const json: unknown = text ? safeJson(text) : null;
  if (!r.ok) {
    const e = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
    // Only a lost session signs out: a wrong password or code is a 401 too.
    if (r.status === 401 && e?.code === 'unauthenticated') onUnauthenticated();
    throw new ApiError(r.status, e?.code ?? 'http_error', e?.message ?? `The server answered ${r.status}.`, e?.details);
  }
  return json as T;
}

/**
 * Sends a file as the body of a POST, reporting the share sent so far (the
 * server reads an import as it arrives, so this is its progress too).
 */
export function upload<T>(path: string, file: Blob, contentType: string, progress: (sent: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', path);
    x.withCredentials = true;
    x.setRequestHeader('content-type', contentType);
    if (csrf) x.setRequestHeader('x-csrf-token', csrf);
    x.upload.onprogress = (e) => { if (e.lengthComputable && e.total) progress(e.loaded / e.total); };
    x.onerror = () => reject(new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.'));
    x.onload = () => {
      const json = x.responseText ? safeJson(x.responseText) : null;
      if (x.status >= 200 && x.status < 300) { resolve(json as T); return; }
      const e = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
      if (x.status === 401 && e?.code === 'unauthenticated') onUnauthenticated();
      reject(new ApiError(x.status, e?.code ?? 'http_error', e?.message ?? `The server answered ${x.status}.`, e?.details));
    };
    x.send(file);
  });
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return null; }
}

/** A second factor as sign-in sends it: an authenticator code or a recovery code. */
export type SecondFactor = { totp_code?: string; recovery_code?: string };

export async function login(email: string, password: string, second: SecondFactor = {}): Promise<Me> {
  const me = await call<Me>('POST', '/v1/auth/login', { email, password, ...second });
  csrf = me.csrf_token;
  return me;
}

/** Accepts an invitation with the invited address's password (or a new one). */
export async function acceptInvitation(token: string, password: string, second: SecondFactor = {}): Promise<Me> {
  const me = await call<Me>('POST', '/v1/auth/invitations/accept', { token, password, ...second });
  csrf = me.csrf_token;
  return me;
}

export async function currentUser(): Promise<Me> {
  const me = await call<Me>('GET', '/v1/auth/me');
  csrf = me.csrf_token;
  return me;
}

export async function logout(): Promise<void> {
  await call('POST', '/v1/auth/logout');
  csrf = '';
}

export interface Page<T> { items: T[]; next_cursor: string | null }
