// The client's chat, as a bank's app would embed it for one person: the choice between the
// personal-manager chat and the general chat, the manager and whether they are active, the open
// appeal's state, live messages. The app hands over the person's token as /chat#token=…; for the
// demo, a picker gets one through the API (POST /api/v1/persons/{id}/token).
import { ApiError, EMPLOYEE_TOKEN, PERSON_TOKEN, clearToken, errorText, getToken, makeApi, query, setToken } from './api.js';
import { byId, debounce, h, setChildren } from './dom.js';
import { installLanguageSwitch, statusLabel, t } from './i18n.js';
import { Live } from './live.js';
import { Composer, MessageList } from './messages.js';

installLanguageSwitch();
window.addEventListener('pageshow', (event) => { if (event.persisted) location.reload(); });

const CHOICE = 'sb.chat.kind';
const POLL_MS = 20000;
const api = makeApi(PERSON_TOKEN, () => showPicker());
let me = null;
let dialogs = [];
let current = null;          // the chosen dialog
let live = null;
let poll = null;

const list = new MessageList(byId('chat-messages'), api, {
  kindOf: (message) => {
    if (message.author.type === 'system') return 'system';
    if (message.author.type === 'person' && me && message.author.id === me.id) return 'mine';
    return message.author.type === 'person' ? 'client' : 'staff';
  },
  onNewVisible: (lastId) => markRead(lastId),
});

const composer = new Composer(byId('chat-composer'), {
  onSend: async (text, key) => {
    const message = await api(`/api/v1/dialogs/${current.id}/messages`, {
      method: 'POST', body: { text, client_message_id: key },
    });
    list.add(message);
    list.scrollToBottom();
    scheduleDialogs();
  },
});
// Nothing can be sent before a dialog is chosen.
composer.setDisabled(true);

let readUpTo = 0;
let readTimer = null;
let readDirty = false;

function sendRead() {
  if (!current || document.hidden) return;
  readDirty = false;
  readTimer = setTimeout(() => {
    readTimer = null;
    if (readDirty) sendRead();
  }, 400);
  api(`/api/v1/dialogs/${current.id}/read`, {
    method: 'POST', body: { up_to_message_id: readUpTo }, keepalive: true,
  })
    .catch(() => {});
}

function markRead(lastId) {
  if (lastId && lastId > readUpTo) {
    readUpTo = lastId;
    if (readTimer) readDirty = true;
    else sendRead();
  }
}

// --- the chat -------------------------------------------------------------------------------

async function startChat() {
  try {
    me = await api('/api/v1/me');
  } catch (error) {
    showPicker(error instanceof ApiError && error.status === 401 ? null : errorText(error));
    return;
  }
  if (me.type !== 'person') {
    showPicker();
    return;
  }
  byId('picker').hidden = true;
  byId('client-chat').hidden = false;
  byId('switch-client').hidden = false;
  byId('person-name').textContent = me.name === me.client.name
    ? me.name : `${me.name} · ${me.client.name}`;
  live = new Live(getToken(PERSON_TOKEN), {
    onEvent,
    onReady: () => {
      loadDialogs();
      if (list.loaded) list.catchUp().catch(() => {});
    },
    onUnauthorized: () => showPicker(),
  }).start();
  await loadDialogs();
  clearInterval(poll);
  // A manager's status reaches a person with the next appeal event; between those, look again.
  poll = setInterval(() => { if (!document.hidden) loadDialogs(); }, POLL_MS);
}

let dialogsSeq = 0;

async function loadDialogs() {
  const mine = ++dialogsSeq;
  let page;
  try {
    page = await api('/api/v1/dialogs');
  } catch (error) {
    if (mine === dialogsSeq) byId('chat-state').textContent = errorText(error);
    return;
  }
  if (mine !== dialogsSeq || !page.items.length) return;
  dialogs = page.items;
  const wanted = current ? current.kind : sessionStorage.getItem(CHOICE);
  const chosen = dialogs.find((d) => d.kind === wanted)
    || dialogs.find((d) => d.kind === 'personal_manager') || dialogs[0];
  renderTabs(chosen);
  if (!current || current.id !== chosen.id) {
    current = chosen;
    readUpTo = 0;
    list.reset(current.id);
    await list.loadLatest();
  } else {
    current = chosen;
  }
  composer.setDisabled(false);
  renderInfo();
}

const scheduleDialogs = debounce(loadDialogs, 150);

function renderTabs(chosen) {
  const tabs = byId('chat-tabs');
  const kinds = ['personal_manager', 'general'];
  const buttons = kinds.map((kind) => {
    const dialog = dialogs.find((d) => d.kind === kind);
    const selected = dialog && chosen && dialog.id === chosen.id;
    return h('button', {
      type: 'button', role: 'tab', class: 'chat-tab', id: `tab-${kind}`,
      'aria-selected': String(Boolean(selected)), tabindex: selected ? '0' : '-1',
      disabled: !dialog, dataset: { kind },
      text: dialog ? dialog.label : t(`label_${kind}`),
      onclick: () => choose(kind),
    });
  });
  setChildren(tabs, buttons);
}

function choose(kind) {
  const dialog = dialogs.find((d) => d.kind === kind);
  if (!dialog) return;
  sessionStorage.setItem(CHOICE, kind);
  current = null;
  composer.setDisabled(true);
  const focusTab = () => { const tab = byId(`tab-${kind}`); if (tab) tab.focus(); };
  loadDialogs().then(focusTab);
}

byId('chat-tabs').addEventListener('keydown', (event) => {
  if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
  const enabled = [...byId('chat-tabs').querySelectorAll('[role=tab]:not([disabled])')];
  const index = enabled.indexOf(document.activeElement);
  if (index < 0) return;
  event.preventDefault();
  let next = index;
  if (event.key === 'ArrowLeft') next = (index - 1 + enabled.length) % enabled.length;
  if (event.key === 'ArrowRight') next = (index + 1) % enabled.length;
  if (event.key === 'Home') next = 0;
  if (event.key === 'End') next = enabled.length - 1;
  choose(enabled[next].dataset.kind);
});

function renderInfo() {
  const manager = byId('chat-manager');
  const hasPmDialog = dialogs.some((d) => d.kind === 'personal_manager');
  if (current.kind === 'personal_manager') {
    const pm = current.responsible;
    setChildren(manager, pm
      ? [h('span', { class: 'muted', text: `${t('chat_manager')}: ` }),
        h('strong', { text: pm.full_name }), ' ',
        h('span', { class: `presence presence-${pm.status}` },
          h('span', { class: `dot dot-${pm.status}`, 'aria-hidden': 'true' }),
          t('chat_manager_status', { status: statusLabel(pm.status) }))]
      : t('chat_no_manager'));
  } else {
    setChildren(manager, hasPmDialog ? null : t('chat_no_manager'));
  }
  const appeal = current.open_appeal;
  const state = byId('chat-state');
  state.textContent = stateText(appeal);
  state.className = `chat-state state-${appeal ? appeal.status : 'none'}`;
  byId('chat-resolve').hidden = !appeal;
}

function stateText(appeal) {
  if (!appeal) return t('chat_state_none');
  if (appeal.status === 'assigned') {
    return t('chat_state_assigned', { name: appeal.assignee ? appeal.assignee.full_name : '' });
  }
  if (appeal.kind === 'personal_manager') {
    return appeal.reason === 'no_personal_manager' ? t('chat_state_no_pm') : t('chat_state_waiting_pm');
  }
  return t('chat_state_queued');
}

function onEvent(event) {
  const data = event.data || {};
  if (event.type === 'message.created' && current && data.dialog_id === current.id) {
    list.add(data);
  }
  if (event.type.startsWith('appeal.') || event.type === 'personal_manager.changed'
    || (event.type === 'message.created' && (!current || data.appeal_id !== (current.open_appeal || {}).id))) {
    scheduleDialogs();
  }
}

byId('chat-resolve').addEventListener('click', async (event) => {
  const appeal = current && current.open_appeal;
  if (!appeal) return;
  event.currentTarget.disabled = true;
  try {
    await api(`/api/v1/appeals/${appeal.id}/close`, { method: 'POST' });
    await loadDialogs();
  } catch (error) {
    byId('chat-state').textContent = errorText(error);
  } finally {
    byId('chat-resolve').disabled = false;
  }
});

// --- the demo picker ------------------------------------------------------------------------

let issuer = null;  // an employee's api, kept in memory only, for issuing the person's token

function showPicker(message) {
  clearToken(PERSON_TOKEN);
  if (live) live.stop();
  live = null;
  clearInterval(poll);
  current = null;
  byId('client-chat').hidden = true;
  byId('switch-client').hidden = true;
  byId('person-name').textContent = '';
  byId('picker').hidden = false;
  const error = byId('picker-error');
  error.hidden = !message;
  error.textContent = message || '';
  const employeeToken = getToken(EMPLOYEE_TOKEN);
  if (!issuer && employeeToken) issuer = makeApi(employeeToken, null);
  byId('picker-login').hidden = Boolean(issuer);
  byId('picker-search').hidden = !issuer;
  if (issuer) pickerSearch();
}

byId('picker-login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = byId('picker-error');
  error.hidden = true;
  try {
    const out = await makeApi('', null)('/api/v1/auth/token', {
      method: 'POST',
      body: { login: byId('picker-user').value.trim(), password: byId('picker-password').value },
    });
    issuer = makeApi(out.access_token, null);
    byId('picker-login').hidden = true;
    byId('picker-search').hidden = false;
    byId('picker-q').focus();
    pickerSearch();
  } catch (err) {
    error.textContent = err instanceof ApiError && err.status === 401 ? t('login_invalid') : errorText(err);
    error.hidden = false;
  }
});

byId('picker-search').addEventListener('submit', (event) => {
  event.preventDefault();
  pickerSearch();
});

let searchSeq = 0;

async function pickerSearch() {
  const error = byId('picker-error');
  const mine = ++searchSeq;
  try {
    const page = await issuer(`/api/v1/clients${query({ q: byId('picker-q').value.trim(), limit: 20 })}`);
    if (mine !== searchSeq) return;  // an older search answering late
    const reopen = [];
    setChildren(byId('picker-results'), page.items.map((client) => {
      const persons = h('ul', { class: 'plain-list persons' });
      const button = h('button', {
        type: 'button', class: 'pick', 'aria-expanded': 'false',
        onclick: (e) => togglePersons(e.currentTarget, client, persons),
      },
        h('span', { class: 'grow', text: client.name }),
        h('span', { class: `kind kind-${client.kind}`, text: t(`kind_${client.kind}`) }),
        h('span', {
          class: 'muted small',
          text: client.personal_manager ? client.personal_manager.full_name : t('no_manager'),
        }));
      // A client opened before this list was redrawn stays open.
      if (client.id === openClientId) reopen.push(() => togglePersons(button, client, persons));
      return h('li', { class: 'picker-client' }, button, persons);
    }));
    for (const open of reopen) open();
    error.hidden = true;
  } catch (err) {
    error.textContent = errorText(err);
    error.hidden = false;
  }
}

let openClientId = null;

async function togglePersons(button, client, host) {
  if (button.getAttribute('aria-expanded') === 'true') {
    button.setAttribute('aria-expanded', 'false');
    host.replaceChildren();
    openClientId = null;
    return;
  }
  openClientId = client.id;
  try {
    const page = await issuer(`/api/v1/clients/${client.id}/persons?limit=200`);
    setChildren(host, page.items.filter((p) => p.is_enabled).map((person) => h('li', {},
      h('button', {
        type: 'button', class: 'btn btn-small',
        text: `${t('demo_choose_person')}: ${person.name}`,
        onclick: () => pickPerson(person.id),
      }))));
    button.setAttribute('aria-expanded', 'true');
  } catch (err) {
    byId('picker-error').textContent = errorText(err);
    byId('picker-error').hidden = false;
  }
}

async function pickPerson(personId) {
  try {
    const out = await issuer(`/api/v1/persons/${personId}/token`, { method: 'POST' });
    setToken(out.access_token, PERSON_TOKEN);
    sessionStorage.removeItem(CHOICE);
    await startChat();
    byId('chat-composer').querySelector('textarea').focus();
  } catch (err) {
    byId('picker-error').textContent = errorText(err);
    byId('picker-error').hidden = false;
  }
}

byId('switch-client').addEventListener('click', () => showPicker());

// --- start ------------------------------------------------------------------------------------

const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get('token')) {
  setToken(fragment.get('token'), PERSON_TOKEN);
  history.replaceState(null, '', location.pathname + location.search);
}
if (getToken(PERSON_TOKEN)) {
  startChat();
} else {
  showPicker();
}
