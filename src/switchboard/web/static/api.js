// The REST API with the bearer token kept in sessionStorage (never in a cookie, never in a URL).
import { lang, t } from './i18n.js';

export const EMPLOYEE_TOKEN = 'sb.token';
export const PERSON_TOKEN = 'sb.person';

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export function getToken(key = EMPLOYEE_TOKEN) {
  return sessionStorage.getItem(key);
}

export function setToken(token, key = EMPLOYEE_TOKEN) {
  sessionStorage.setItem(key, token);
}

export function clearToken(key = EMPLOYEE_TOKEN) {
  sessionStorage.removeItem(key);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// A client for one token: `onUnauthorized` runs when the server no longer accepts it.
export function makeApi(tokenOrKey, onUnauthorized) {
  const token = () => (tokenOrKey.startsWith('sb.') ? getToken(tokenOrKey) : tokenOrKey);
  return async function api(path, { method = 'GET', body, keepalive = false } = {}) {
    const headers = { 'Accept-Language': lang, Accept: 'application/json' };
    const bearer = token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store', credentials: 'omit', keepalive,
      });
    } catch (error) {
      throw new ApiError(0, 'network', t('error_network'));
    }
    if (response.status === 204) return null;
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    if (!response.ok) {
      if (response.status === 401 && onUnauthorized) onUnauthorized();
      throw new ApiError(response.status, data && data.code, data && data.detail);
    }
    return data;
  };
}

export function errorText(error) {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('error_network');
    const known = error.code ? t(`error_${error.code}`) : null;
    if (known && known !== `error_${error.code}`) return known;
    return `${t('error_generic')}: ${error.detail || error.code}`;
  }
  return t('error_generic');
}

export async function allPages(api, path, params = {}) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(path + query({ ...params, limit: 200, cursor }));
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}
