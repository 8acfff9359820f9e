import { ApiError, EMPLOYEE_TOKEN, errorText, makeApi, setToken } from './api.js';
import { byId } from './dom.js';
import { installLanguageSwitch, t } from './i18n.js';

installLanguageSwitch();

function nextPath() {
  const next = new URLSearchParams(location.search).get('next') || '/inbox';
  // Only a path of this site: never "//elsewhere" or "https://…".
  return /^\/(?![/\\])/.test(next) ? next : '/inbox';
}

const form = byId('login-form');
const error = byId('login-error');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  const login = byId('login').value.trim();
  const password = byId('password').value;
  if (!login || !password) {
    error.textContent = t('login_invalid');
    error.hidden = false;
    return;
  }
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const out = await makeApi('', null)('/api/v1/auth/token', {
      method: 'POST', body: { login, password },
    });
    setToken(out.access_token, EMPLOYEE_TOKEN);
    location.assign(nextPath());
  } catch (err) {
    error.textContent = err instanceof ApiError && (err.status === 401 || err.status === 422)
      ? t('login_invalid') : errorText(err);
    error.hidden = false;
    byId('password').select();
  } finally {
    button.disabled = false;
  }
});
