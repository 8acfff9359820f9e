// «Входящие»: the dialogs I work on, newest activity first, kept live over the WebSocket.
import { errorText, query } from './api.js';
import { byId, debounce, h, setChildren, syncChildren, toast } from './dom.js';
import { formatFull, formatTime, kindShort, t } from './i18n.js';
import { appealStateText, startShell } from './shell.js';

const PAGE = 50;
const MAX_REFRESH = 200;

const list = byId('inbox-list');
const status = byId('inbox-status');
const more = byId('inbox-more');
const form = byId('filters');

let shell = null;
let items = [];            // inbox items in display order
const rows = new Map();    // dialog_id -> <li>
const shownState = new WeakMap(); // <li> -> the item it shows, as JSON
let nextCursor = null;
let generation = 0;

function filters() {
  return {
    kind: byId('f-kind').value,
    state: byId('f-state').value,
    unread: byId('f-unread').checked ? 'true' : '',
    q: byId('f-q').value.trim(),
  };
}

function restoreFilters() {
  const params = new URLSearchParams(location.search);
  byId('f-kind').value = params.get('kind') || '';
  byId('f-state').value = params.get('state') || '';
  byId('f-unread').checked = params.get('unread') === 'true';
  byId('f-q').value = params.get('q') || '';
}

async function refresh() {
  const mine = ++generation;
  const limit = Math.min(MAX_REFRESH, Math.max(PAGE, items.length));
  let page;
  try {
    page = await shell.api(`/api/v1/inbox${query({ ...filters(), limit })}`);
  } catch (error) {
    if (mine === generation) status.textContent = errorText(error);
    return;
  }
  if (mine !== generation) return;
  if (items.length > MAX_REFRESH && page.next_cursor && page.items.length) {
    // Only the head was read again. Keep, as loaded, the rows that sort after its last one: a
    // row pushed out of the head by one that moved up is among them, and none is listed twice.
    const head = new Set(page.items.map((item) => item.dialog_id));
    const edge = page.items[page.items.length - 1];
    items = [...page.items, ...items.filter((i) => !head.has(i.dialog_id) && after(i, edge))];
  } else {
    items = page.items;
    nextCursor = page.next_cursor;
  }
  render();
}

// Newest activity first, then the higher dialog id: the server's order (and its cursor's).
function activityKey(item) {
  const iso = item.last_activity_at;
  const fraction = /\.(\d+)/.exec(iso);
  const micros = fraction ? Number(fraction[1].padEnd(6, '0').slice(3, 6)) : 0;
  return [Date.parse(iso), micros, item.dialog_id];
}

function after(item, edge) {
  const a = activityKey(item);
  const b = activityKey(edge);
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] !== b[i]) return a[i] < b[i];
  }
  return false;
}

async function loadMore() {
  if (!nextCursor) return;
  const mine = generation;
  more.disabled = true;
  try {
    const page = await shell.api(`/api/v1/inbox${query({ ...filters(), limit: PAGE, cursor: nextCursor })}`);
    if (mine !== generation) return;
    const known = new Set(items.map((item) => item.dialog_id));
    items = [...items, ...page.items.filter((item) => !known.has(item.dialog_id))];
    nextCursor = page.next_cursor;
    render();
  } catch (error) {
    toast(errorText(error));
  } finally {
    more.disabled = false;
  }
  // Observing afresh reports whether the sentinel is still in reach (a tall window, a short
  // page): then the next page follows without waiting for a scroll.
  sentinel.unobserve(more);
  sentinel.observe(more);
}

function render() {
  const nodes = items.map((item) => {
    let li = rows.get(item.dialog_id);
    if (!li) {
      li = h('li', { class: 'inbox-row', dataset: { dialogId: String(item.dialog_id) } },
        h('a', { class: 'row-link', href: `/dialogs/${Number(item.dialog_id)}` }));
      rows.set(item.dialog_id, li);
    }
    // Only a row whose item changed is rebuilt: with a couple of thousand rows loaded, a live
    // event touches one or two of them.
    const state = JSON.stringify(item);
    if (shownState.get(li) !== state) {
      fill(li, item);
      shownState.set(li, state);
    }
    return li;
  });
  const shown = new Set(items.map((item) => item.dialog_id));
  for (const id of [...rows.keys()]) if (!shown.has(id)) rows.delete(id);
  syncChildren(list, nodes);
  status.textContent = items.length ? '' : t('inbox_empty');
  more.hidden = !nextCursor;
  const unread = items.reduce((sum, item) => sum + item.unread_count, 0);
  document.title = `${unread ? `(${unread}) ` : ''}${t('inbox_title')} · ${t('app_name')}`;
}

function fill(li, item) {
  const link = li.firstElementChild;
  const appeal = item.open_appeal;
  const stateClass = appeal ? `state-${appeal.status}` : 'state-none';
  const last = item.last_message;
  const when = last ? last.created_at : item.last_activity_at;
  li.classList.toggle('has-unread', item.unread_count > 0);
  setChildren(link,
    h('div', { class: 'row-top' },
      h('span', {
        class: `badge badge-${item.kind}`, text: item.label, 'data-testid': 'dialog-label',
      }),
      h('span', { class: `state ${stateClass}`, text: appealStateText(appeal), 'data-testid': 'row-state' }),
      h('time', { class: 'row-time', datetime: when, title: formatFull(when), text: formatTime(when) })),
    h('div', { class: 'row-who' },
      h('span', { class: 'row-client', text: item.client.name }),
      h('span', {
        class: `kind kind-${item.client.kind}`, text: kindShort(item.client.kind),
        title: t(`kind_${item.client.kind}_full`),
      }),
      h('span', { class: 'row-person', text: item.person.name })),
    h('div', { class: 'row-last' },
      last ? h('span', { class: 'row-author', text: `${last.author.name}: ` }) : null,
      h('span', { class: 'row-text', text: last ? last.text : t('no_messages') })),
    item.unread_count > 0
      ? h('span', {
        class: 'unread', text: String(item.unread_count), 'data-testid': 'unread',
        'aria-label': t('unread_n', { n: item.unread_count }),
      })
      : null);
}

// A new message moves its row to the top at once; the refresh that follows makes it exact.
function optimistic(message) {
  const index = items.findIndex((item) => item.dialog_id === message.dialog_id);
  if (index < 0) return;
  const item = { ...items[index], last_message: message, last_activity_at: message.created_at };
  const mine = message.author.type === 'employee' && message.author.id === shell.me.id;
  if (!mine) item.unread_count += 1;
  items = [item, ...items.slice(0, index), ...items.slice(index + 1)];
  render();
}

const scheduleRefresh = debounce(refresh, 200);

function onEvent(event) {
  if (event.type === 'message.created') optimistic(event.data);
  if (event.type === 'employee.status_changed') return;
  scheduleRefresh();
}

function onFiltersChanged() {
  const params = query(filters());
  history.replaceState(null, '', `/inbox${params}`);
  items = [];
  nextCursor = null;
  refresh();
}

restoreFilters();
form.addEventListener('submit', (event) => event.preventDefault());
form.addEventListener('change', onFiltersChanged);
byId('f-q').addEventListener('input', debounce(onFiltersChanged, 300));
more.addEventListener('click', loadMore);
const sentinel = new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting) && nextCursor && !more.disabled) loadMore();
}, { rootMargin: '400px' });
sentinel.observe(more);

shell = await startShell({ onEvent, onReady: refresh });
refresh();
