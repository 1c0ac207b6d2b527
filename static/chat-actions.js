// What the chat page does about replies, edits, deletes and reactions: the menu's
// choices, the composer's reply and edit modes, the frames that carry them, the
// `update` frames that bring a message's new state, and the jump from a reply to the
// message it answers. chat.js owns the connection and calls in here.
//
// Nothing is shown changed before the server says so: an `update` (to everyone in the
// room, us included) is the acknowledgement. An action sent and not answered when the
// connection drops goes again after the rejoin; one refused says why, and an edit's
// text is never lost (back in the composer, or kept behind an "Edit again" button).

import { actionRefusedText, capitalize } from "./chat-format.js";
import {
  actionFrame, firstLine, isNewer, lastEditable, myReactions, PendingActions, positionOf, settles,
} from "./chat-lifecycle.js";
import { confirmDelete, MessageMenu, watchLongPress } from "./chat-message-menu.js";

// A jump to a replied-to message loads older history up to this many pages of this
// many messages; an original further back shows whole in the quote instead.
const JUMP_PAGES = 5;
const JUMP_PAGE_SIZE = 200;

export class MessageActions {
  // ctx: {room, me, view, send(frame) (false when not connected: it goes after the
  // rejoin), newClientId(), addOlder(messages, hasMore) (a page of older history), and
  // what we are in the room now: moderates() (we may delete anyone's message: the owner,
  // moderators), muted() (no edits; deleting our own stays allowed), removed() (out of
  // the room: no menu at all)}.
  constructor(ctx) {
    Object.assign(this, ctx);
    this.list = ctx.view.list;
    this.composer = ctx.view.composer;
    this.pending = new PendingActions();
    this.originals = new Map(); // id -> a replied-to message not shown (null: none)
    this.menu = new MessageMenu(
      { layer: document.getElementById("menu-layer"), menu: document.getElementById("message-menu") },
      {
        onReply: (id) => this.reply(id),
        onEdit: (id) => this.edit(id),
        onDelete: (id) => this.remove(id),
        onReact: (id, emoji, on) => this.react(id, emoji, on),
      },
    );
    this.dialog = document.getElementById("confirm-delete");
    watchLongPress(this.list.el.list, (li) => this.openMenu(Number(li.dataset.id), li));
  }

  api(path) {
    return `/api/rooms/${encodeURIComponent(this.room)}/messages${path}`;
  }

  // ---- the menu and what it offers ----

  openMenu(id, anchor) {
    const message = this.list.get(id);
    if (!message || message.deleted || this.removed()) return;
    if (this.menu.isOpenFor(id)) return this.menu.close();
    this.menu.open(message, this.menuState(message, anchor));
  }

  menuState(message, anchor) {
    const mine = message.user.id === this.me.id;
    return {
      editable: mine && !this.muted(),
      deletable: mine || this.moderates(),
      reacted: myReactions(message, this.me.id),
      anchor,
    };
  }

  reply(id) {
    const message = this.list.get(id);
    if (!message || message.deleted) return;
    this.composer.startReply(id, message.user.nickname, firstLine(message.text, 60));
  }

  edit(id) {
    const message = this.list.get(id);
    if (!message || message.deleted || message.user.id !== this.me.id) return false;
    this.composer.startEdit(id, message.text);
    return true;
  }

  // Up-arrow in an empty composer: our latest message that is not deleted.
  editLast() {
    const message = lastEditable(this.list.all(), this.me.id);
    if (!message) return false;
    this.edit(message.id);
    this.list.shown.get(message.id)?.scrollIntoView({ block: "nearest" });
    return true;
  }

  async remove(id) {
    const message = this.list.get(id);
    if (!message || message.deleted) return;
    const author = message.user.id === this.me.id ? null : message.user.nickname;
    const yes = await confirmDelete(this.dialog, firstLine(message.text, 120), author);
    const li = this.list.shown.get(id);
    (li && li.querySelector(".message-actions") || this.composer.el.draft).focus();
    if (yes) this.act({ kind: "delete", messageId: id });
  }

  react(id, emoji, on) {
    const message = this.list.get(id);
    if (message && !message.deleted) this.act({ kind: "react", messageId: id, emoji, on });
  }

  // The composer's Enter in edit mode.
  submitEdit() {
    const { id } = this.composer.mode;
    const text = this.composer.textToSend();
    if (text === null) return;
    const message = this.list.get(id);
    if (!message || message.deleted) {
      this.composer.dropEdit();
      this.composer.showError("Not edited: the message was deleted. Your text is kept.", "fatal");
    } else {
      if (text !== message.text) this.act({ kind: "edit", messageId: id, text, basis: positionOf(message) });
      this.composer.endEdit();
    }
  }

  // Sent now, or after the rejoin when not connected.
  act(action) {
    this.pending.supersede(action);
    const item = this.pending.add(this.newClientId(), action);
    this.send(actionFrame(this.room, item));
  }

  // After a rejoin (its updates applied first): what is still unanswered goes again;
  // an edit not over a change made meanwhile (by another tab), which would be lost.
  resend() {
    for (const item of this.pending.unsettled()) {
      const message = this.list.get(item.messageId);
      if (item.kind === "edit" && message && positionOf(message) > item.basis) {
        this.pending.refused(item.clientId);
        this.editRefused(item, message, "Not edited: the message changed while you were offline.");
      } else {
        this.send(actionFrame(this.room, item));
      }
    }
  }

  // ---- what the server says ----

  // A message's new state: drawn again in place when shown (true), else only its quotes.
  update(message) {
    this.pending.settledBy(message, this.me.id);
    if (!this.list.update(message)) {
      if (this.originals.get(message.id)) this.gotOriginal(message.id, message);
      return false;
    }
    const id = message.id;
    if (this.menu.isOpenFor(id)) {
      const anchor = this.list.shown.get(id).querySelector(".message-actions");
      if (!message.deleted) this.menu.refresh(message, this.menuState(message, anchor));
      else {
        this.menu.close(false);
        this.composer.focus();
      }
    }
    const mode = this.composer.mode;
    if (message.deleted && mode && mode.id === id) {
      const what = mode.kind === "edit" ? "editing" : "replying to";
      if (mode.kind === "edit") this.composer.dropEdit();
      else this.composer.cancelMode();
      this.composer.showError(`The message you were ${what} was deleted. Your text is kept.`, "fatal");
    }
    return true;
  }

  // An error frame about one of our actions (true), said in plain words.
  error(frame) {
    const item = frame.client_id && this.pending.refused(frame.client_id);
    if (!item) return false;
    const current = this.list.get(item.messageId);
    if (current && settles(item, current, this.me.id)) return true; // done after all
    const text = actionRefusedText(item.kind, frame.message);
    if (item.kind === "edit") this.editRefused(item, current, text);
    else this.composer.showError(capitalize(text), "fatal");
    return true;
  }

  // The edit's text comes back: into an idle, empty composer at once, else behind a
  // button on the message.
  editRefused(item, current, text) {
    const again = () => this.composer.startEdit(item.messageId, item.text);
    if (!current || current.deleted) {
      if (this.composer.isEmpty() && !this.composer.mode) this.composer.putBack(item.text);
    } else if (this.composer.isEmpty() && !this.composer.mode) {
      again();
    } else {
      this.list.markEditFailed(item.messageId, again);
    }
    this.composer.showError(text, "fatal");
  }

  // ---- replies ----

  // A message replied to and not shown: what is known of it (null: there is none;
  // undefined: being fetched, once).
  original(id) {
    if (!this.originals.has(id)) {
      this.originals.set(id, undefined);
      this.fetchOriginal(id);
    }
    return this.originals.get(id);
  }

  // Its latest state known (a fetch and an update may cross): its quotes show it.
  gotOriginal(id, message) {
    const known = this.originals.get(id);
    if (known && message && !isNewer(known, message)) return;
    this.originals.set(id, message);
    this.list.refreshQuotes(id);
  }

  async fetchOriginal(id) {
    try {
      const response = await fetch(this.api(`/${id}`), { headers: { Accept: "application/json" } });
      if (response.ok) return this.gotOriginal(id, (await response.json()).message);
      if (response.status === 404) return this.gotOriginal(id, null);
    } catch (_) {
      // Offline: the quote stays "…" until it is drawn again.
    }
    this.originals.delete(id);
  }

  // A click on a quote: scroll to the original and highlight it, loading the history
  // back to it when it is not shown; too far back, the quote shows it whole.
  async jumpTo(id) {
    for (let page = 0; page < JUMP_PAGES && !this.list.has(id); page++) {
      const oldest = this.list.oldestId;
      if (oldest === null || oldest < id) break;
      let body;
      try {
        const response = await fetch(this.api(`?before=${oldest}&limit=${JUMP_PAGE_SIZE}`), {
          headers: { Accept: "application/json" },
        });
        if (!response.ok) break;
        body = await response.json();
      } catch (_) {
        break;
      }
      this.addOlder(body.messages, body.has_more);
      if (!body.has_more) break;
    }
    if (this.list.has(id)) return this.list.highlight(id);
    if (!this.originals.get(id)) await this.fetchOriginal(id);
    this.list.expandQuotes(id);
  }
}
