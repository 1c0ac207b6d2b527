// Sending on the chat page: what was typed goes into the outbox (chat-outbox.js) and
// shows as pending until the server's copy comes back; a refusal that may pass holds
// it and sends it again by itself, one for good puts its text back to be fixed. The
// "typing" frames go from here too. chat.js says when the connection is up.

import { refusedForNowText, refusedText } from "./chat-format.js";
import { Outbox } from "./chat-outbox.js";

// At most one "typing" frame this often while the draft changes.
const TYPING_EVERY_MS = 2500;

export function newClientId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

export class Sender {
  // ctx: {room, view, actions, send(frame) (false when not connected), joined()}.
  constructor(ctx) {
    Object.assign(this, ctx);
    this.list = ctx.view.list;
    this.composer = ctx.view.composer;
    this.outbox = new Outbox(); // each item's `view` is its pending <li>
    this.holdTimer = null; // sends again once a refusal's wait is over
    this.lastTypingSent = 0;
  }

  // The composer's Enter: a new message (a reply, in reply mode), or an edit.
  submit() {
    const { composer, list } = this;
    const mode = composer.mode;
    if (mode && mode.kind === "edit") return this.actions.submitEdit();
    const text = composer.textToSend();
    if (text === null) return;
    const replyTo = mode ? mode.id : null;
    const p = this.outbox.add(newClientId(), text, list.addPending(text, replyTo), replyTo);
    if (!this.joined()) list.note(p.view, "waiting");
    this.flush();
    composer.clear();
    // The others clear our sign when the message lands: the next draft says so again at once.
    this.lastTypingSent = 0;
    if (mode) composer.cancelMode();
    list.scrollToBottom();
  }

  // Sends what is queued, in order, unless a refusal asked to wait.
  flush() {
    if (!this.joined()) return;
    for (const p of this.outbox.due()) {
      const frame = { type: "send", room: this.room, text: p.text, client_id: p.clientId };
      if (p.replyTo) frame.reply_to = p.replyTo;
      if (!this.send(frame)) return;
      this.outbox.sent(p);
      this.list.note(p.view, "sending");
    }
  }

  // The connection dropped: what was in flight goes again after the rejoin; until
  // then it waits.
  connectionLost() {
    for (const p of this.outbox.connectionLost()) this.list.note(p.view, "waiting");
  }

  // A stored message of ours arrived: its pending copy goes.
  acknowledged(message) {
    const p = this.outbox.acknowledged(message.client_id);
    if (p) this.list.removePending(p.view);
  }

  // A message of ours got through: a "will retry" notice is over.
  gotThrough() {
    this.outbox.gotThrough();
    if (this.composer.errorKind() === "retry" && !this.outbox.held()) this.composer.hideError();
  }

  // An error frame about one of our sends (true).
  error(frame) {
    if (!frame.client_id || !this.outbox.get(frame.client_id)) return false;
    if (frame.code === "unavailable" || frame.code === "rate_limited") this.refusedForNow(frame.client_id, frame.message);
    else this.refused(frame.client_id, frame.message);
    return true;
  }

  // Not stored, but it may pass later: it stays in the list and goes again by itself.
  refusedForNow(clientId, why) {
    const { item: p, delay } = this.outbox.refusedForNow(clientId);
    this.list.note(p.view, "held");
    this.composer.showError(refusedForNowText(why, delay), "retry");
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => this.flush(), this.outbox.holdUntil - Date.now());
  }

  // Refused for good: the text goes back into the composer, with the reason, to fix
  // (a reply still answering its message); into an idle, empty composer at once, else
  // when its author asks (the composer's own text is not overwritten).
  refused(clientId, why) {
    const { composer, list } = this;
    const p = this.outbox.refusedForGood(clientId);
    const back = () => {
      if (composer.mode) composer.cancelMode(); // a reply or an edit in the box gives way
      list.removePending(p.view);
      list.refreshSeparators();
      const original = p.replyTo && list.get(p.replyTo);
      if (original && !original.deleted) this.actions.reply(p.replyTo);
    };
    if (composer.isEmpty() && !composer.mode) {
      back();
      composer.putBack(p.text);
    } else {
      list.markFailed(p.view, () => {
        back();
        composer.editAgain(p.text);
      });
    }
    composer.showError(refusedText(why), "fatal");
    composer.focus();
  }

  // The draft changed: the others see that we are typing (not while editing).
  typed() {
    const { composer } = this;
    if (composer.mode && composer.mode.kind === "edit") return;
    const now = Date.now();
    if (!composer.isEmpty() && now - this.lastTypingSent > TYPING_EVERY_MS) {
      this.lastTypingSent = now;
      this.send({ type: "typing", room: this.room });
    }
  }
}
