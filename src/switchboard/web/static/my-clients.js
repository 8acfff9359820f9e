// «Мои клиенты»: the clients whose personal manager I am, with their persons; from here a manager
// opens the personal-manager dialog with a person and writes first (the appeal is then theirs).
import { errorText, query } from './api.js';
import { byId, debounce, h, toast } from './dom.js';
import { kindShort, t } from './i18n.js';
import { startShell } from './shell.js';

const PAGE = 50;

const list = byId('mc-list');
const status = byId('mc-status');
const more = byId('mc-more');
const input = byId('mc-q');

let shell = null;
let nextCursor = null;
let generation = 0;
let loading = false;

function searchText() {
  return input.value.trim();
}

async function load({ fresh }) {
  if (!fresh && (!nextCursor || loading)) return;
  const mine = fresh ? ++generation : generation;
  loading = true;
  more.disabled = true;
  if (fresh) status.textContent = t('loading');
  try {
    const params = { q: searchText(), limit: PAGE, cursor: fresh ? null : nextCursor };
    const page = await shell.api(`/api/v1/me/clients${query(params)}`);
    if (mine !== generation) return;
    const cards = page.items.map(card);
    if (fresh) list.replaceChildren(...cards);
    else list.append(...cards);
    nextCursor = page.next_cursor;
    more.hidden = !nextCursor;
    if (list.children.length) status.textContent = '';
    else status.textContent = searchText() ? t('nothing_found') : t('my_clients_empty');
  } catch (error) {
    if (mine === generation) status.textContent = errorText(error);
  } finally {
    if (mine === generation) {
      loading = false;
      more.disabled = false;
    }
  }
  if (mine === generation) {
    // Observing afresh tells whether the end of the list is still in reach.
    sentinel.unobserve(more);
    sentinel.observe(more);
  }
}

function card(client) {
  const headingId = `client-${Number(client.id)}`;
  const persons = client.persons.map((person) => h('li', { class: 'person-line' },
    h('span', { class: 'grow', text: person.name }),
    person.is_enabled
      ? h('button', {
        type: 'button',
        class: `btn btn-small${person.personal_manager_dialog_id ? '' : ' btn-primary'}`,
        text: person.personal_manager_dialog_id ? t('my_clients_open') : t('my_clients_start'),
        'aria-label': person.personal_manager_dialog_id
          ? t('my_clients_open_named', { name: person.name })
          : t('my_clients_start_named', { name: person.name }),
        'data-testid': 'open-chat',
        onclick: (event) => openChat(event.currentTarget, person),
      })
      : h('span', { class: 'muted small', text: t('my_clients_person_disabled') })));
  return h('li', { class: 'card client-card', dataset: { clientId: String(client.id) } },
    h('h2', { class: 'client-name', id: headingId },
      h('span', { text: client.name }), ' ',
      h('span', {
        class: `kind kind-${client.kind}`, text: kindShort(client.kind),
        title: t(`kind_${client.kind}_full`),
      })),
    persons.length
      ? h('ul', {
        class: 'plain-list', 'aria-label': t('my_clients_persons', { name: client.name }),
      }, persons)
      : h('p', { class: 'muted', text: t('my_clients_no_persons') }));
}

// The dialog exists once either side has used it; otherwise get-or-create makes it (SPEC 7.3).
async function openChat(button, person) {
  button.disabled = true;
  try {
    let dialogId = person.personal_manager_dialog_id;
    if (!dialogId) {
      const dialog = await shell.api('/api/v1/dialogs', {
        method: 'POST', body: { kind: 'personal_manager', person_id: person.id },
      });
      dialogId = dialog.id;
    }
    location.assign(`/dialogs/${Number(dialogId)}#compose`);
  } catch (error) {
    toast(errorText(error));
    button.disabled = false;
  }
}

function onSearch() {
  const q = searchText();
  history.replaceState(null, '', `/my-clients${query({ q })}`);
  nextCursor = null;
  load({ fresh: true });
}

const refresh = debounce(() => load({ fresh: true }), 300);

function onEvent(event) {
  if (event.type !== 'personal_manager.changed' || !shell) return;
  const data = event.data || {};
  if (data.personal_manager_id === shell.me.id || data.previous_personal_manager_id === shell.me.id) {
    refresh();
  }
}

input.value = new URLSearchParams(location.search).get('q') || '';
byId('mc-search').addEventListener('submit', (event) => {
  event.preventDefault();
  onSearch();
});
input.addEventListener('input', debounce(onSearch, 300));
more.addEventListener('click', () => load({ fresh: false }));
const sentinel = new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting) && nextCursor && !loading) {
    load({ fresh: false });
  }
}, { rootMargin: '400px' });
sentinel.observe(more);

shell = await startShell({ onEvent });
load({ fresh: true });
