// A dialog's history: the latest page first, older pages as the reader scrolls up, live
// messages appended without moving what the reader is looking at; and the composer.
//
// At most MAX_SHOWN messages are in the DOM: reading far up drops the newest ones below the view
// (they come back, a page at a time, as the reader scrolls down again), so a history of thousands
// costs what a few pages cost.
import { errorText } from './api.js';
import { debounce, h } from './dom.js';
import { formatFull, formatTime, t } from './i18n.js';

const PAGE = 50;
const MAX_SHOWN = 300;
const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 150;
const NEAR_END_PX = 400;

export class MessageList {
  // kindOf(message) -> 'mine' | 'client' | 'staff' | 'system'
  constructor(host, api, { kindOf, onNewVisible }) {
    this.api = api;
    this.kindOf = kindOf;
    this.onNewVisible = onNewVisible || (() => {});
    this.older = h('button', {
      type: 'button', class: 'btn btn-small older-btn', text: t('older'), hidden: true,
      onclick: () => this.loadOlder(),
    });
    this.items = h('ol', { class: 'message-items' });
    this.empty = h('p', { class: 'muted empty-messages', text: t('no_messages'), hidden: true });
    this.scroller = h('div', {
      class: 'messages', tabindex: '0', role: 'log', 'aria-live': 'polite',
      'aria-label': t('messages_label'), 'data-testid': 'messages',
    }, h('div', { class: 'older-bar' }, this.older), this.empty, this.items);
    this.newButton = h('button', {
      type: 'button', class: 'new-messages', text: t('new_messages'), hidden: true,
      onclick: () => this.scrollToBottom(),
    });
    host.replaceChildren(h('div', { class: 'messages-wrap' }, this.scroller, this.newButton));
    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.reset(null);
  }

  reset(dialogId) {
    this.dialogId = dialogId;
    this.byId = new Map();
    this.firstId = null;   // the oldest message shown
    this.lastId = null;    // the newest message shown
    this.hasOlder = false;
    this.hasNewer = false; // newer messages exist than the newest shown (dropped, or live)
    this.loading = false;
    this.loaded = false;
    this.pending = [];     // live messages that came before the first page
    this.skipped = [];     // live messages that came while the newest were not shown
    this.items.replaceChildren();
    this.older.hidden = true;
    this.newButton.hidden = true;
    this.empty.hidden = true;
    this.generation = (this.generation || 0) + 1;
  }

  url(params) {
    const search = new URLSearchParams({ limit: String(PAGE), ...params });
    return `/api/v1/dialogs/${this.dialogId}/messages?${search}`;
  }

  async loadLatest() {
    const generation = this.generation;
    const page = await this.api(this.url({}));
    if (generation !== this.generation) return;
    this.items.replaceChildren();
    this.byId.clear();
    for (const message of page.items) this.items.append(this.render(message));
    this.firstId = page.items.length ? page.items[0].id : null;
    this.lastId = page.items.length ? page.items[page.items.length - 1].id : null;
    this.hasOlder = Boolean(page.next_cursor);
    this.hasNewer = false;
    this.older.hidden = !this.hasOlder;
    this.empty.hidden = page.items.length > 0;
    this.loaded = true;
    // Live messages that arrived while the page was on its way.
    for (const message of [...this.pending.splice(0), ...this.skipped.splice(0)]) this.add(message);
    this.scrollToBottom();
  }

  // After a reconnect: whatever came after the last message shown.
  async catchUp() {
    if (!this.loaded || this.hasNewer) return;  // scrolling down reads them anyway
    if (this.lastId === null) {
      await this.loadLatest();
      return;
    }
    const generation = this.generation;
    let after = this.lastId;
    for (;;) {
      const page = await this.api(this.url({ after }));
      if (generation !== this.generation || this.hasNewer) return;
      for (const message of page.items) this.add(message);
      if (!page.next_cursor || !page.items.length) return;
      after = page.items[page.items.length - 1].id;
    }
  }

  async loadOlder() {
    if (!this.hasOlder || this.loading || this.firstId === null) return;
    this.loading = true;
    const generation = this.generation;
    try {
      const page = await this.api(this.url({ before: this.firstId }));
      if (generation !== this.generation) return;
      const fragment = document.createDocumentFragment();
      for (const message of page.items) {
        if (!this.byId.has(message.id)) fragment.append(this.render(message));
      }
      this.keepInPlace(() => {
        this.items.prepend(fragment);
        if (page.items.length) this.firstId = page.items[0].id;
        this.hasOlder = Boolean(page.next_cursor);
        this.older.hidden = !this.hasOlder;
      });
      // The newest ones, far below the view, make room; nothing in view moves.
      if (this.items.children.length > MAX_SHOWN) {
        while (this.items.children.length > MAX_SHOWN) this.drop(this.items.lastElementChild);
        this.lastId = Number(this.items.lastElementChild.dataset.id);
        this.hasNewer = true;
      }
    } finally {
      this.loading = false;
    }
  }

  async loadNewer() {
    if (!this.hasNewer || this.loading || this.lastId === null) return;
    this.loading = true;
    const generation = this.generation;
    try {
      const page = await this.api(this.url({ after: this.lastId }));
      if (generation !== this.generation) return;
      for (const message of page.items) {
        if (!this.byId.has(message.id)) this.items.append(this.render(message));
      }
      if (page.items.length) this.lastId = page.items[page.items.length - 1].id;
      this.hasNewer = Boolean(page.next_cursor) && page.items.length > 0;
      // The oldest ones, far above the view, make room.
      this.keepInPlace(() => {
        while (this.items.children.length > MAX_SHOWN) this.drop(this.items.firstElementChild);
        this.firstId = Number(this.items.firstElementChild.dataset.id);
        if (this.items.children.length >= MAX_SHOWN) this.hasOlder = true;
        this.older.hidden = !this.hasOlder;
      });
    } finally {
      this.loading = false;
    }
    if (!this.hasNewer) {
      for (const message of this.skipped.splice(0)) this.add(message);
      if (this.nearBottom() && !this.newButton.hidden) {
        this.newButton.hidden = true;
        this.onNewVisible(this.lastId);
      }
    }
  }

  // Changes above the view, made so that what the reader is looking at stays where it was.
  keepInPlace(change) {
    const scroller = this.scroller;
    const height = scroller.scrollHeight;
    const top = scroller.scrollTop;
    change();
    scroller.scrollTop = top + (scroller.scrollHeight - height);
  }

  drop(li) {
    this.byId.delete(Number(li.dataset.id));
    li.remove();
  }

  add(message) {
    if (message.dialog_id !== this.dialogId || this.byId.has(message.id)) return;
    if (!this.loaded) {
      this.pending.push(message);
      return;
    }
    // Older than the oldest shown: scrolling up brings it in its place.
    if (this.hasOlder && this.firstId !== null && message.id < this.firstId) return;
    if (this.hasNewer && (this.lastId === null || message.id > this.lastId)) {
      // The reader is far up the history: it waits for them below.
      this.skipped.push(message);
      this.newButton.hidden = false;
      return;
    }
    const stick = this.nearBottom() || this.kindOf(message) === 'mine';
    const node = this.render(message);
    if (this.lastId === null || message.id > this.lastId) {
      this.items.append(node);
      this.lastId = message.id;
    } else {
      const later = [...this.items.children].find((li) => Number(li.dataset.id) > message.id);
      this.items.insertBefore(node, later || null);
    }
    if (this.firstId === null) this.firstId = message.id;
    this.empty.hidden = true;
    if (stick) {
      this.scrollToBottom();
    } else {
      this.newButton.hidden = false;
    }
  }

  render(message) {
    const kind = this.kindOf(message);
    const author = message.author.type === 'system' ? t('author_system') : message.author.name;
    const li = h('li', { class: `msg msg-${kind}`, dataset: { id: String(message.id), appealId: String(message.appeal_id) },
    },
      h('div', { class: 'msg-meta' },
        h('span', { class: 'msg-author', text: kind === 'mine' ? `${author} (${t('you')})` : author }),
        h('time', {
          datetime: message.created_at, title: formatFull(message.created_at),
          text: formatTime(message.created_at),
        })),
      h('div', { class: 'msg-text', text: message.text }));
    this.byId.set(message.id, li);
    return li;
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    if (this.hasNewer) {
      // The newest messages are not in the DOM: the latest page replaces what is shown.
      this.generation += 1;
      this.loading = false;
      this.hasNewer = false;
      this.loadLatest().catch(() => { this.hasNewer = true; });
      return;
    }
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.newButton.hidden = true;
    this.onNewVisible(this.lastId);
  }

  onScroll() {
    const s = this.scroller;
    if (!this.loading && s.scrollTop < NEAR_TOP_PX && this.hasOlder) {
      this.loadOlder();
    } else if (!this.loading && this.hasNewer
      && s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_END_PX) {
      this.loadNewer();
    }
    if (!this.hasNewer && this.nearBottom() && !this.newButton.hidden) {
      this.newButton.hidden = true;
      this.onNewVisible(this.lastId);
    }
  }
}

// Enter sends, Shift+Enter starts a new line. The text stays in place until the server has it;
// a retry of the same text reuses its idempotency key, so it is stored once.
export class Composer {
  constructor(host, { onSend }) {
    this.onSend = onSend;
    this.pending = null;
    const id = `composer-${Math.random().toString(36).slice(2)}`;
    this.textarea = h('textarea', {
      id, rows: '2', maxlength: '4096', class: 'composer-text',
      'aria-describedby': `${id}-hint`, 'data-testid': 'composer',
    });
    this.button = h('button', { type: 'submit', class: 'btn btn-primary', text: t('send') });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.form = h('form', { class: 'composer', novalidate: true },
      h('label', { for: id, class: 'sr-only', text: t('composer_label') }),
      h('div', { class: 'composer-row' }, this.textarea, this.button),
      h('p', { class: 'composer-hint muted', id: `${id}-hint`, text: t('composer_hint') }),
      this.error);
    host.replaceChildren(this.form);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    this.textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.hideError = debounce(() => { this.error.hidden = true; }, 8000);
  }

  setDisabled(disabled) {
    this.textarea.disabled = disabled;
    this.button.disabled = disabled;
  }

  async send() {
    const text = this.textarea.value;
    if (!text.trim() || this.sending) return;
    if (!this.pending || this.pending.text !== text) {
      this.pending = { text, key: randomKey() };
    }
    this.sending = true;
    this.error.hidden = true;
    try {
      await this.onSend(text, this.pending.key);
      if (this.textarea.value === text) this.textarea.value = '';
      this.pending = null;
    } catch (error) {
      this.error.textContent = errorText(error);
      this.error.hidden = false;
      this.hideError();
    } finally {
      this.sending = false;
      this.textarea.focus();
    }
  }
}

function randomKey() {
  // crypto.randomUUID exists only in secure contexts; getRandomValues everywhere.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
