// The WebSocket /api/v1/ws: authenticates with its first message (no token in the URL), resumes
// with `after=` the last event seen, pings to stay alive, and reconnects with a growing pause.
import { byId } from './dom.js';

const PING_MS = 25000;

export class Live {
  constructor(token, { onEvent, onReady, onUnauthorized }) {
    this.token = token;
    this.onEvent = onEvent || (() => {});
    this.onReady = onReady || (() => {});
    this.onUnauthorized = onUnauthorized || (() => {});
    this.lastId = null;
    this.socket = null;
    this.retry = 0;
    this.stopped = false;
    this.ready = false;
    this.pingTimer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
    window.addEventListener('pagehide', () => this.stop());
    return this;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pingTimer);
    if (this.socket) this.socket.close(1000);
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/ws`);
    this.socket = socket;
    this.ready = false;
    socket.addEventListener('open', () => {
      const hello = { type: 'auth', token: this.token };
      if (this.lastId !== null) hello.after = this.lastId;
      socket.send(JSON.stringify(hello));
      // The server answers pings only once it has subscribed and caught up: the pong says
      // that from now on nothing is missed.
      socket.send(JSON.stringify({ type: 'ping' }));
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'ping' }));
      }, PING_MS);
    });
    socket.addEventListener('message', (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (event.type === 'pong') {
        if (!this.ready) {
          this.ready = true;
          this.retry = 0;
          banner(false);
          this.onReady();
        }
        return;
      }
      if (typeof event.id === 'number') {
        if (this.lastId !== null && event.id <= this.lastId) return;
        this.lastId = event.id;
      }
      try { this.onEvent(event); } catch (error) { console.error(error); }
    });
    socket.addEventListener('close', (closeEvent) => {
      clearInterval(this.pingTimer);
      if (this.stopped || socket !== this.socket) return;
      if (closeEvent.code === 4401) {
        this.onUnauthorized();
        return;
      }
      banner(true);
      const pause = Math.min(15000, 500 * 2 ** this.retry);
      this.retry += 1;
      setTimeout(() => { if (!this.stopped) this.connect(); }, pause);
    });
  }
}

function banner(show) {
  const el = byId('live-banner');
  if (el) el.hidden = !show;
}
