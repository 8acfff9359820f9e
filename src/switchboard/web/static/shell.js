// What every employee page shares: the token check, the header (name, sections by permission,
// the status switch always in view), the live connection, and the employees directory.
import { allPages, clearToken, EMPLOYEE_TOKEN, errorText, getToken, makeApi } from './api.js';
import { byId, toast } from './dom.js';
import { installLanguageSwitch, statusLabel, t } from './i18n.js';
import { Live } from './live.js';

export function toLogin() {
  clearToken(EMPLOYEE_TOKEN);
  const next = location.pathname + location.search;
  location.replace(`/login?next=${encodeURIComponent(next)}`);
}

export async function startShell({ onEvent, onReady } = {}) {
  installLanguageSwitch();
  // Back to a page kept in the browser's cache: its live connection is gone, start afresh.
  window.addEventListener('pageshow', (event) => { if (event.persisted) location.reload(); });
  const token = getToken(EMPLOYEE_TOKEN);
  if (!token) {
    toLogin();
    return new Promise(() => {});
  }
  const api = makeApi(EMPLOYEE_TOKEN, toLogin);
  const me = await api('/api/v1/me');
  if (me.type !== 'employee') {
    toLogin();
    return new Promise(() => {});
  }
  byId('me-name').textContent = me.full_name;
  for (const link of document.querySelectorAll('[data-permission]')) {
    link.hidden = !me.permissions.includes(link.dataset.permission);
  }
  byId('logout').addEventListener('click', () => {
    clearToken(EMPLOYEE_TOKEN);
    location.assign('/login');
  });

  const directory = new Directory(api);
  const statusSwitch = new StatusSwitch(api, me);
  const live = new Live(token, {
    onEvent: (event) => {
      if (event.type === 'employee.status_changed') {
        directory.statusChanged(event.data);
        if (event.data.employee_id === me.id) statusSwitch.show(event.data.status);
      }
      if (onEvent) onEvent(event);
    },
    onReady: () => {
      statusSwitch.refresh();
      if (onReady) onReady();
    },
    onUnauthorized: toLogin,
  }).start();
  return { api, me, live, directory, can: (permission) => me.permissions.includes(permission) };
}

class StatusSwitch {
  constructor(api, me) {
    this.api = api;
    this.me = me;
    this.buttons = [...document.querySelectorAll('.status-btn')];
    for (const button of this.buttons) {
      button.addEventListener('click', () => this.set(button.dataset.status));
    }
    this.show(me.status);
  }

  show(status) {
    this.me.status = status;
    for (const button of this.buttons) {
      button.setAttribute('aria-pressed', String(button.dataset.status === status));
    }
    document.body.dataset.myStatus = status;
  }

  async set(status) {
    const previous = this.me.status;
    this.show(status);
    try {
      const out = await this.api('/api/v1/me/status', { method: 'PUT', body: { status } });
      this.show(out.status);
    } catch (error) {
      this.show(previous);
      toast(errorText(error));
    }
  }

  async refresh() {
    try {
      const me = await this.api('/api/v1/me');
      this.show(me.status);
    } catch (error) { /* the next event or reload tells */ }
  }
}

// Every employee by id: names for histories, statuses for transfer and invite choices.
class Directory {
  constructor(api) {
    this.api = api;
    this.byId = new Map();
    this.loaded = null;
    this.listeners = [];
  }

  load() {
    if (!this.loaded) {
      this.loaded = allPages(this.api, '/api/v1/employees').then((items) => {
        for (const employee of items) this.byId.set(employee.id, employee);
        return this;
      }).catch((error) => {
        this.loaded = null;
        throw error;
      });
    }
    return this.loaded;
  }

  name(id) {
    const employee = this.byId.get(id);
    return employee ? employee.full_name : `#${id}`;
  }

  all() {
    return [...this.byId.values()].sort((a, b) => a.full_name.localeCompare(b.full_name));
  }

  statusChanged(data) {
    const employee = this.byId.get(data.employee_id);
    if (employee) employee.status = data.status;
    for (const listener of this.listeners) listener(data);
  }

  onChange(listener) {
    this.listeners.push(listener);
  }
}

export function employeeOption(employee) {
  return `${employee.full_name} (${statusLabel(employee.status)})`;
}

export function appealStateText(appeal) {
  if (!appeal) return t('state_none');
  if (appeal.status === 'assigned') {
    return `${t('state_assigned_to', { name: appeal.assignee ? appeal.assignee.full_name : '' })}`;
  }
  const parts = [t(`state_${appeal.status}`)];
  if (appeal.reason) parts.push(t(`reason_${appeal.reason}`));
  if (appeal.status === 'queued' && appeal.waiting_for) {
    parts.push(t('state_waiting_for', { name: appeal.waiting_for.full_name }));
  }
  return parts.join(' · ');
}
