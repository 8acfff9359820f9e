// Personal managers: find a client, see, change or remove its manager with the audited history;
// move a whole portfolio with a dry-run preview first.
import { errorText, query } from './api.js';
import { byId, h, setChildren, toast } from './dom.js';
import { formatFull, kindShort, statusLabel, t } from './i18n.js';
import { employeeOption, startShell } from './shell.js';

let shell = null;
let client = null;
let preview = null;

const results = byId('client-results');
const resultsStatus = byId('client-results-status');

let searchSeq = 0;

async function search(event) {
  if (event) event.preventDefault();
  const mine = ++searchSeq;
  const q = byId('client-q').value.trim();
  resultsStatus.textContent = t('loading');
  try {
    const page = await shell.api(`/api/v1/clients${query({ q, limit: 50 })}`);
    if (mine !== searchSeq) return;
    setChildren(results, page.items.map((item) => h('li', {},
      h('button', {
        type: 'button', class: 'pick', 'aria-pressed': String(client !== null && client.id === item.id),
        dataset: { clientId: String(item.id) },
        onclick: () => select(item.id),
      },
      h('span', { class: 'grow', text: item.name }),
      h('span', { class: `kind kind-${item.kind}`, text: kindShort(item.kind) }),
      h('span', {
        class: 'muted small',
        text: item.personal_manager ? item.personal_manager.full_name : t('no_manager'),
      })))));
    resultsStatus.textContent = page.items.length ? '' : t('nothing_found');
  } catch (error) {
    resultsStatus.textContent = errorText(error);
  }
}

async function select(clientId) {
  try {
    const [data, history] = await Promise.all([
      shell.api(`/api/v1/clients/${clientId}`),
      shell.api(`/api/v1/clients/${clientId}/personal-manager/history?limit=200`),
      shell.directory.load(),
    ]);
    client = data;
    renderClient(history.items);
    for (const button of results.querySelectorAll('button.pick')) {
      button.setAttribute('aria-pressed', String(button.dataset.clientId === String(clientId)));
    }
  } catch (error) {
    toast(errorText(error));
  }
}

function renderClient(history) {
  byId('client-card').hidden = false;
  setChildren(byId('client-heading'), client.name, ' ',
    h('span', { class: `kind kind-${client.kind}`, text: kindShort(client.kind) }));
  const manager = client.personal_manager;
  byId('client-manager').textContent = manager
    ? `${manager.full_name} · ${statusLabel(manager.status)}` : t('no_manager');
  const selectEl = byId('manager-select');
  setChildren(selectEl, h('option', { value: '', text: t('choose') }),
    shell.directory.all().filter((e) => e.is_enabled && (!manager || e.id !== manager.id))
      .map((e) => h('option', { value: String(e.id), text: employeeOption(e) })));
  byId('manager-remove').hidden = !manager;
  const name = (id) => (id === null || id === undefined ? t('none_dash') : shell.directory.name(id));
  setChildren(byId('manager-history'), history.length
    ? history.map((change) => h('tr', {},
      h('td', { class: 'nowrap', text: formatFull(change.changed_at) }),
      h('td', { text: name(change.previous_personal_manager_id) }),
      h('td', { text: name(change.personal_manager_id) }),
      h('td', { text: name(change.changed_by) })))
    : h('tr', {}, h('td', { colspan: '4', class: 'muted', text: t('no_history') })));
}

async function setManager(employeeId) {
  const message = byId('manager-message');
  message.textContent = '';
  try {
    await shell.api(`/api/v1/clients/${client.id}/personal-manager`, {
      method: 'PUT', body: { employee_id: employeeId },
    });
    await select(client.id);
    message.textContent = t('manager_saved');
    search();
  } catch (error) {
    message.textContent = errorText(error);
  }
}

function fillMoveSelects() {
  for (const id of ['move-from', 'move-to']) {
    const selectEl = byId(id);
    const current = selectEl.value;
    setChildren(selectEl, h('option', { value: '', text: t('choose') }),
      shell.directory.all().filter((e) => e.is_enabled)
        .map((e) => h('option', { value: String(e.id), text: employeeOption(e) })));
    selectEl.value = current;
  }
}

function movePair() {
  const from = Number(byId('move-from').value);
  const to = Number(byId('move-to').value);
  return from && to && from !== to ? { from, to } : null;
}

async function move(dryRun) {
  const pair = movePair();
  const out = byId('move-result');
  if (!pair) {
    out.textContent = t('move_same');
    return;
  }
  try {
    const result = await shell.api('/api/v1/personal-managers/moves', {
      method: 'POST',
      body: { from_employee_id: pair.from, to_employee_id: pair.to, dry_run: dryRun },
    });
    if (dryRun) {
      preview = pair;
      setChildren(out, h('ul', { class: 'plain-list' },
        h('li', { text: t('move_clients', { n: result.clients }) }),
        h('li', { text: t('move_staying', { n: result.open_appeals_staying }) }),
        h('li', { text: t('move_moving', { n: result.queued_appeals_moving }) })));
      byId('move-apply').disabled = result.clients === 0;
    } else {
      preview = null;
      byId('move-apply').disabled = true;
      setChildren(out, h('p', { text: t('move_done', { n: result.clients }) }));
      if (client) select(client.id);
    }
  } catch (error) {
    out.textContent = errorText(error);
  }
}

shell = await startShell({
  onEvent: (event) => {
    if (event.type === 'personal_manager.changed' && client && event.data.client_id === client.id) {
      select(client.id);
    }
  },
});
byId('client-search').addEventListener('submit', search);
byId('manager-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = Number(byId('manager-select').value);
  if (value) setManager(value);
});
byId('manager-remove').addEventListener('click', () => setManager(null));
byId('move-form').addEventListener('submit', (event) => {
  event.preventDefault();
  move(true);
});
byId('move-apply').addEventListener('click', () => {
  const pair = movePair();
  if (preview && pair && pair.from === preview.from && pair.to === preview.to) move(false);
});
for (const id of ['move-from', 'move-to']) {
  byId(id).addEventListener('change', () => {
    preview = null;
    byId('move-apply').disabled = true;
  });
}
try {
  await shell.directory.load();
  fillMoveSelects();
} catch (error) {
  toast(errorText(error));
}
search();
