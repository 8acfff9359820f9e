// The queue for supervisors: queued appeals, oldest first, why each waits, for whom, how long.
import { ApiError, allPages, errorText } from './api.js';
import { byId, debounce, h, setChildren } from './dom.js';
import { formatDuration, formatFull, kindShort, reason, t } from './i18n.js';
import { startShell } from './shell.js';

const body = byId('queue-body');
const table = byId('queue-table');
const status = byId('queue-status');
let shell = null;
let rows = [];
let fetchedAt = 0;
let generation = 0;

async function refresh() {
  const mine = ++generation;
  let items;
  try {
    items = await allPages(shell.api, '/api/v1/queue');
  } catch (error) {
    if (mine !== generation) return;
    status.textContent = error instanceof ApiError && error.status === 403
      ? `${t('error_generic')}: supervise` : errorText(error);
    table.hidden = true;
    return;
  }
  if (mine !== generation) return;
  rows = items;
  fetchedAt = performance.now();
  render();
}

function render() {
  setChildren(body, rows.map((item) => h('tr', { dataset: { appealId: String(item.id) } },
    h('td', {
      class: 'waiting nowrap', 'data-label': t('col_waiting'),
      dataset: { seconds: String(item.waiting_seconds) },
    }, h('span', { class: 'waited', text: formatDuration(item.waiting_seconds) })),
    h('td', { 'data-label': t('col_client') },
      h('span', {},
        h('span', { text: item.client.name }), ' ',
        h('span', { class: `kind kind-${item.client.kind}`, text: kindShort(item.client.kind) }))),
    h('td', { 'data-label': t('col_person'), text: item.person.name }),
    h('td', { 'data-label': t('col_chat') }, h('span', {
      class: `badge badge-${item.kind}`, text: t(`label_${item.kind}`),
    })),
    h('td', {
      'data-label': t('col_reason'), text: reason(item.reason),
      title: formatFull(item.queued_at || item.opened_at),
    }),
    h('td', {
      'data-label': t('col_waits_for'),
      text: item.waiting_for ? item.waiting_for.full_name : t('anyone'),
    }),
    h('td', {}, h('a', {
      href: `/dialogs/${Number(item.dialog_id)}`, text: t('open'),
      'aria-label': `${t('open')}: ${item.client.name}`,
    })))));
  table.hidden = rows.length === 0;
  status.textContent = rows.length ? '' : t('queue_empty');
}

function tick() {
  const elapsed = (performance.now() - fetchedAt) / 1000;
  for (const cell of body.querySelectorAll('td.waiting')) {
    cell.firstElementChild.textContent = formatDuration(Number(cell.dataset.seconds) + elapsed);
  }
}

const scheduleRefresh = debounce(refresh, 200);

shell = await startShell({
  onEvent: (event) => {
    if (event.type.startsWith('appeal.') || event.type === 'personal_manager.changed') {
      scheduleRefresh();
    }
  },
  onReady: refresh,
});
refresh();
setInterval(tick, 1000);
