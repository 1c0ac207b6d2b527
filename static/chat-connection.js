// The chat page's WebSocket: it connects, says what happens, and reconnects with
// backoff after a drop, except when the page is being left or the login ended. The
// page decides what to show and what to send (chat.js); nothing here touches the DOM.

import { CLOSE_LOGGED_OUT, reconnectDelay } from "./chat-outbox.js";

export class Connection {
  // handlers: onConnecting(attempt), onOpen(), onFrame(frame), onClose(),
  // onRetry(delayMs, attempt), onLoggedOut().
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.socket = null;
    this.attempt = 0; // failed connections in a row
    this.retryTimer = null;
    this.leaving = false; // the page is being left: no reconnecting
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.handlers.onConnecting(this.attempt);
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => this.handlers.onOpen());
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      this.handlers.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      this.socket = null;
      this.handlers.onClose();
      if (this.leaving) return;
      if (event.code === CLOSE_LOGGED_OUT) return this.handlers.onLoggedOut();
      this.attempt += 1;
      const delay = reconnectDelay(this.attempt);
      this.handlers.onRetry(delay, this.attempt);
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
  }

  isOpen() {
    return !!this.socket && this.socket.readyState === WebSocket.OPEN;
  }

  // Sends a frame now; false when there is no open socket.
  send(frame) {
    if (!this.isOpen()) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  // The server took us in: the backoff starts over.
  established() {
    this.attempt = 0;
  }

  // The network came back: try at once instead of waiting out the backoff.
  retryNow() {
    if (this.socket || this.leaving) return;
    this.attempt = 0;
    this.connect();
  }

  // The page is being left (or kept for the Back button): close without reconnecting.
  leave() {
    this.leaving = true;
    clearTimeout(this.retryTimer);
    if (this.socket) this.socket.close(1000, "page closed");
  }

  // The page is shown again from the Back button's cache.
  resume() {
    this.leaving = false;
    this.attempt = 0;
    if (!this.socket) this.connect();
  }
}
