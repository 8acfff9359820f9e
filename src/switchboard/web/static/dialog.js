// One dialog: its history, the composer, the open appeal with its routing history, and the
// controls its kind allows — invitations for a personal-manager dialog (which has no transfer
// control at all), transfer and return-to-queue for a general one.
import { ApiError, errorText } from './api.js';
import { byId, debounce, h, setChildren, toast } from './dom.js';
import { formatFull, formatTime, kindShort, reason, statusLabel, t } from './i18n.js';
import { Composer, MessageList } from './messages.js';
import { appealStateText, employeeOption, startShell } from './shell.js';

const dialogId = Number(document.body.dataset.dialogId);
let shell = null;
let dialog = null;
let gone = false;
let transferOptions = null; // refills the operator choice when statuses change
let leaveWhenGone = false;   // the user's own close or transfer: then back to the Inbox
const kept = {};             // choices made in the side's forms, kept across re-renders

const list = new MessageList(byId('messages'), (...args) => shell.api(...args), {
  kindOf: (message) => {
    if (message.author.type === 'system') return 'system';
    if (message.author.type === 'person') return 'client';
    return shell && message.author.id === shell.me.id ? 'mine' : 'staff';
  },
  onNewVisible: (lastId) => markRead(lastId),
});

const composer = new Composer(byId('composer'), {
  onSend: async (text, key) => {
    const message = await shell.api(`/api/v1/dialogs/${dialogId}/messages`, {
      method: 'POST', body: { text, client_message_id: key },
    });
    list.add(message);
    list.scrollToBottom();
    if (!dialog || !dialog.open_appeal || dialog.open_appeal.id !== message.appeal_id) {
      scheduleInfo();
    }
  },
});

// Read marks go out at once, then at most every 400 ms while messages stream in.
let readUpTo = 0;
let readTimer = null;
let readDirty = false;

async function sendRead() {
  if (gone || document.hidden || !shell) return;
  readDirty = false;
  readTimer = setTimeout(() => {
    readTimer = null;
    if (readDirty) sendRead();
  }, 400);
  try {
    await shell.api(`/api/v1/dialogs/${dialogId}/read`, {
      method: 'POST', body: { up_to_message_id: readUpTo }, keepalive: true,
    });
  } catch (error) { /* a read mark can wait for the next message */ }
}

function markRead(lastId) {
  if (lastId === null || lastId === undefined || lastId <= readUpTo) return;
  readUpTo = lastId;
  if (readTimer) readDirty = true;
  else sendRead();
}

let infoSeq = 0;
let shownKey = '';

async function loadInfo() {
  const mine = ++infoSeq;
  let data;
  try {
    data = await shell.api(`/api/v1/dialogs/${dialogId}`);
  } catch (error) {
    if (mine !== infoSeq) return;
    if (error instanceof ApiError && error.status === 404) {
      lose();
      return;
    }
    toast(errorText(error));
    return;
  }
  if (mine !== infoSeq) return;  // a later answer is on its way or already shown
  dialog = data;
  renderHead();
  // Re-render the side only when what it shows changed: a choice half made in one of its
  // forms is not wiped by an unrelated event.
  const key = JSON.stringify([dialog.responsible, dialog.participants, dialog.open_appeal]);
  if (key === shownKey) return;
  shownKey = key;
  renderAppeal();
  renderKindControls();
  await renderHistory();
}

const scheduleInfo = debounce(loadInfo, 150);

function lose() {
  if (leaveWhenGone) {
    location.assign('/inbox');
    return;
  }
  gone = true;
  dialog = null;
  byId('dialog-gone').hidden = false;
  composer.setDisabled(true);
  setChildren(byId('appeal-actions'));
  setChildren(byId('kind-controls'));
  byId('appeal-state').textContent = t('dialog_gone');
}

function renderHead() {
  const label = byId('dialog-label');
  label.textContent = dialog.label;
  label.className = `badge badge-${dialog.kind}`;
  label.dataset.testid = 'dialog-label';
  setChildren(byId('dialog-client'), dialog.client.name, ' ',
    h('span', {
      class: `kind kind-${dialog.client.kind}`, text: kindShort(dialog.client.kind),
      title: t(`kind_${dialog.client.kind}_full`),
    }));
  byId('dialog-person').textContent = dialog.person.name;
  document.title = `${dialog.client.name} · ${t('app_name')}`;
}

function isResponsible() {
  return dialog.responsible !== null && dialog.responsible.id === shell.me.id;
}

function renderAppeal() {
  const appeal = dialog.open_appeal;
  const state = byId('appeal-state');
  state.textContent = appealStateText(appeal);
  state.className = `appeal-state state-${appeal ? appeal.status : 'none'}`;
  const actions = [];
  if (appeal) {
    actions.push(h('p', {
      class: 'muted small', text: t('appeal_opened_at', { time: formatFull(appeal.opened_at) }),
    }));
    const holder = appeal.assignee && appeal.assignee.id === shell.me.id;
    if (holder || shell.can('supervise')) {
      actions.push(h('button', {
        type: 'button', class: 'btn btn-danger', text: t('close_appeal'), 'data-testid': 'close-appeal',
        onclick: (event) => act(event.currentTarget, `/api/v1/appeals/${appeal.id}/close`, {},
          'POST', { leaves: true }),
      }));
    }
  }
  setChildren(byId('appeal-actions'), actions);
}

function renderKindControls() {
  const host = byId('kind-controls');
  transferOptions = null;
  for (const id of ['invite-select', 'transfer-select']) {
    const select = byId(id);
    if (select && select.value) kept[id] = select.value;
  }
  if (dialog.kind === 'personal_manager') {
    setChildren(host, managerCard());
  } else {
    setChildren(host, transferCard());
  }
}

function managerCard() {
  const canInvite = isResponsible() || shell.can('supervise');
  const manager = dialog.responsible;
  const invited = new Set(dialog.participants.map((p) => p.employee_id));
  const items = dialog.participants.map((p) => {
    const self = p.employee_id === shell.me.id;
    return h('li', { class: 'person-line' },
      h('span', { class: `dot dot-${p.status}`, 'aria-hidden': 'true' }),
      h('span', { class: 'grow', text: `${p.full_name} · ${statusLabel(p.status)}` }),
      canInvite || self
        ? h('button', {
          type: 'button', class: 'btn btn-small',
          text: self ? t('leave') : t('remove'),
          'aria-label': self ? t('leave') : t('remove_named', { name: p.full_name }),
          onclick: (event) => act(event.currentTarget,
            `/api/v1/dialogs/${dialogId}/participants/${p.employee_id}`, undefined, 'DELETE',
            { leaves: self }),
        })
        : null);
  });
  const card = h('section', { class: 'card', 'aria-labelledby': 'pm-heading', 'data-testid': 'pm-card' },
    h('h2', { id: 'pm-heading', text: t('manager_title') }),
    h('p', { class: 'person-line', 'data-testid': 'responsible' },
      manager ? h('span', { class: `dot dot-${manager.status}`, 'aria-hidden': 'true' }) : null,
      manager ? `${manager.full_name} · ${statusLabel(manager.status)}` : t('no_manager')),
    h('h3', { text: t('participants_title') }),
    items.length
      ? h('ul', { class: 'plain-list', 'data-testid': 'participants' }, items)
      : h('p', { class: 'muted', text: t('participants_none') }));
  if (canInvite) {
    const select = remember(h('select', { id: 'invite-select', required: true },
      h('option', { value: '', text: t('choose') })));
    const form = h('form', { class: 'stack-form', 'data-testid': 'invite-form' },
      h('label', { for: 'invite-select', text: t('invite_label') }),
      h('div', { class: 'inline-form' }, select,
        h('button', { type: 'submit', class: 'btn', text: t('invite_submit') })));
    shell.directory.load().then(() => {
      for (const employee of shell.directory.all()) {
        if (!employee.is_enabled || invited.has(employee.id)) continue;
        if (manager && employee.id === manager.id) continue;
        select.append(h('option', { value: String(employee.id), text: employeeOption(employee) }));
      }
      restore(select);
    }).catch((error) => toast(errorText(error)));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!select.value) return;
      act(form.querySelector('button'), `/api/v1/dialogs/${dialogId}/participants`,
        { employee_id: Number(select.value) });
    });
    card.append(form);
  }
  return card;
}

function transferCard() {
  const appeal = dialog.open_appeal;
  const holder = appeal && appeal.assignee && appeal.assignee.id === shell.me.id;
  if (!appeal || !(holder || shell.can('supervise'))) return null;
  const select = remember(h('select', {
    id: 'transfer-select', required: true, 'data-testid': 'transfer-select',
  }));
  const fillOptions = () => {
    const current = select.value;
    const operators = shell.directory.all().filter((e) => e.is_enabled && e.status === 'active'
      && e.permissions.includes('general_chat')
      && !(appeal.assignee && appeal.assignee.id === e.id));
    setChildren(select, h('option', { value: '', text: operators.length ? t('choose') : t('no_operators') }),
      operators.map((e) => h('option', { value: String(e.id), text: e.full_name })));
    if (operators.some((e) => String(e.id) === current)) select.value = current;
    else restore(select);
  };
  shell.directory.load().then(fillOptions).catch((error) => toast(errorText(error)));
  const form = h('form', { class: 'stack-form', 'data-testid': 'transfer-form' },
    h('label', { for: 'transfer-select', text: t('transfer_to') }),
    h('div', { class: 'inline-form' }, select,
      h('button', { type: 'submit', class: 'btn', text: t('transfer_submit'), 'data-testid': 'transfer' })),
    h('button', {
      type: 'button', class: 'btn', text: t('transfer_queue'), 'data-testid': 'transfer-queue',
      onclick: (event) => act(event.currentTarget, `/api/v1/appeals/${appeal.id}/transfer`,
        { employee_id: null }, 'POST', { leaves: true }),
    }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!select.value) return;
    act(form.querySelector('button[type=submit]'), `/api/v1/appeals/${appeal.id}/transfer`,
      { employee_id: Number(select.value) }, 'POST', { leaves: true });
  });
  transferOptions = fillOptions;
  return h('section', { class: 'card', 'aria-labelledby': 'transfer-heading' },
    h('h2', { id: 'transfer-heading', text: t('transfer_title') }), form);
}


// After closing or handing on an appeal the dialog may no longer be ours (a general dialog is
// visible only to whoever holds its open appeal): back to the Inbox then.
async function act(button, path, body, method = 'POST', { leaves = false } = {}) {
  if (button) button.disabled = true;
  try {
    await shell.api(path, { method, body });
    leaveWhenGone = leaves;
    await loadInfo();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      lose();
    } else {
      toast(errorText(error));
    }
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

function restore(select) {
  const value = kept[select.id];
  if (value && [...select.options].some((option) => option.value === value)) select.value = value;
}

function remember(select) {
  select.addEventListener('change', () => { kept[select.id] = select.value; });
  return select;
}

async function renderHistory() {
  const host = byId('history');
  const appealId = dialog.open_appeal ? dialog.open_appeal.id : lastAppealId();
  if (!appealId) {
    setChildren(host, h('li', { class: 'muted', text: t('history_empty') }));
    return;
  }
  let page;
  try {
    [page] = await Promise.all([
      shell.api(`/api/v1/appeals/${appealId}/history?limit=200`),
      shell.directory.load(),
    ]);
  } catch (error) {
    return;
  }
  setChildren(host, page.items.map((item) => h('li', { class: 'history-item' },
    h('time', { datetime: item.at, title: formatFull(item.at), text: formatTime(item.at) }),
    h('div', {},
      h('div', { class: 'history-event', text: t(`event_${item.event}`) }),
      item.reason && item.reason !== item.event
        ? h('div', { class: 'history-reason', text: reason(item.reason) }) : null,
      item.employee_id
        ? h('div', { class: 'history-who', text: shell.directory.name(item.employee_id) }) : null))));
}

function lastAppealId() {
  const last = list.items.lastElementChild;
  return last ? Number(last.dataset.appealId) || null : null;
}

function onEvent(event) {
  if (gone) return;
  const data = event.data || {};
  if (event.type === 'message.created' && data.dialog_id === dialogId) {
    list.add(data);
    if (!dialog || !dialog.open_appeal || dialog.open_appeal.id !== data.appeal_id) scheduleInfo();
    return;
  }
  if (event.type === 'employee.status_changed') {
    if (transferOptions) transferOptions();
    const relevant = dialog && ((dialog.responsible && dialog.responsible.id === data.employee_id)
      || dialog.participants.some((p) => p.employee_id === data.employee_id));
    if (relevant) scheduleInfo();
    return;
  }
  if (event.type === 'personal_manager.changed') {
    if (dialog && data.client_id === dialog.client.id) scheduleInfo();
    return;
  }
  if (data.dialog_id === dialogId) scheduleInfo();
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && list.nearBottom()) markRead(list.lastId);
});

shell = await startShell({
  onEvent,
  onReady: () => {
    if (gone) return;
    if (list.loaded) list.catchUp().catch(() => {});
    scheduleInfo();
  },
});
list.reset(dialogId);
try {
  await list.loadLatest();
} catch (error) {
  if (error instanceof ApiError && error.status === 404) lose();
  else toast(errorText(error));
}
// From «Мои клиенты»: the manager came here to write, possibly first.
if (location.hash === '#compose') {
  history.replaceState(null, '', location.pathname + location.search);
  if (!gone) composer.textarea.focus();
}
if (!gone) await loadInfo();
