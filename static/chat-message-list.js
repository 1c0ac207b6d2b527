// The conversation on screen: the list of messages, in id order and each once, with its
// separators, the pending messages of ours, and the scrolling. A message changed (edited,
// deleted, reacted to) is drawn again in its place. Text goes in with textContent, never
// as HTML (chat-message-render.js draws one message).

import { listLayout } from "./chat-format.js";
import { isNewer } from "./chat-lifecycle.js";
import { controlKey, failureRow, renderMessage, renderQuote } from "./chat-message-render.js";

// What the line above a pending message says (its <time> holds no time yet).
const NOTES = {
  sending: "sending…",
  waiting: "waiting for the connection…",
  held: "not sent yet",
  failed: "not sent",
};

// How long the original of a reply stays highlighted after a jump to it.
const HIGHLIGHT_MS = 2000;

export class MessageList {
  // elements: {scroller, list, edge, loading}; lastRead: the id read up to on arrival;
  // handlers: onMenu(id, button), onReact(id, emoji, on), onQuote(replyTo), original(id)
  // (a message replied to and not shown: the message, null when there is none, or
  // undefined until it is fetched; then `refreshQuotes`), memberName(id) (a member's
  // nickname known from elsewhere) and unknownNames() (a message mentions someone the
  // page cannot name yet; then `redrawMentions`).
  constructor(elements, me, lastRead, handlers) {
    this.el = elements;
    this.me = me;
    this.ui = window.ChatUI;
    this.handlers = handlers;
    this.shown = new Map(); // message id -> <li>
    this.messages = new Map(); // message id -> the message, in its latest state
    this.names = new Map(); // user id -> nickname, from the messages seen
    this.otherNames = new Map(); // user id -> user, from elsewhere (who is online)
    this.newestId = 0; // the highest id shown: what is read up to
    this.oldestId = null; // the lowest id shown: where older history continues
    this.lastRead = lastRead; // where the "New messages" divider goes
    this.el.list.addEventListener("click", (event) => this.clicked(event));
    // When the box shrinks (the composer grows, a reply or edit bar shows, the window
    // turns) the reader at the end stays at the end.
    this.pinned = true;
    this.el.scroller.addEventListener("scroll", () => { this.pinned = this.nearBottom(); });
    new ResizeObserver(() => { if (this.pinned) this.scrollToBottom(); }).observe(this.el.scroller);
  }

  has(id) {
    return this.shown.has(id);
  }

  get(id) {
    return this.messages.get(id);
  }

  // Every stored message shown.
  all() {
    return [...this.messages.values()];
  }

  // Puts a stored message in its place. The caller checks `has` first, and redraws
  // the separators (once for a whole batch).
  add(message) {
    this.newestId = Math.max(this.newestId, message.id);
    this.oldestId = this.oldestId === null ? message.id : Math.min(this.oldestId, message.id);
    this.remember(message);
    const li = this.render(message);
    this.shown.set(message.id, li);
    this.el.list.insertBefore(li, this.successorOf(message.id));
  }

  // A later state of a message shown replaces it in place; false for a message not
  // shown or a state not later than the one shown.
  update(message) {
    const li = this.shown.get(message.id);
    if (!li || !isNewer(this.messages.get(message.id), message)) return false;
    this.remember(message);
    const fresh = this.render(message);
    for (const name of ["continued", "highlight", "being-edited"]) fresh.classList.toggle(name, li.classList.contains(name));
    const focused = li.contains(document.activeElement) ? controlKey(document.activeElement) : null;
    li.replaceWith(fresh);
    this.shown.set(message.id, fresh);
    if (focused) (fresh.querySelector(focused) || fresh.querySelector(".message-actions") || fresh).focus();
    this.refreshQuotes(message.id);
    return true;
  }

  // Someone's new nickname or picture: their messages on screen show it.
  userChanged(user) {
    this.names.set(user.id, user.nickname);
    for (const [id, message] of this.messages) {
      if (message.user.id !== user.id) continue;
      const li = this.shown.get(id);
      message.user = user;
      if (!li) continue;
      const fresh = this.render(message);
      for (const name of li.classList) fresh.classList.add(name);
      li.replaceWith(fresh);
      this.shown.set(id, fresh);
    }
  }

  remember(message) {
    this.messages.set(message.id, message);
    this.names.set(message.user.id, message.user.nickname);
  }

  nameOf(userId) {
    return this.names.get(userId) || this.otherNames.get(userId)?.nickname || this.handlers.memberName(userId);
  }

  // The nicknames of those a message mentions, as far as they are known (the reader's
  // own as it is now).
  mentionNames(message) {
    const names = [];
    let unknown = false;
    for (const id of message.mentions || []) {
      const name = id === this.me.id ? this.me.nickname : this.nameOf(id);
      if (name) names.push(name);
      else unknown = true;
    }
    if (unknown) this.handlers.unknownNames();
    return names;
  }

  // More names are known: the messages that mention someone are drawn again.
  redrawMentions() {
    for (const [id, message] of this.messages) {
      if ((message.mentions || []).length > 0) this.redraw(id);
    }
  }

  redraw(id) {
    const li = this.shown.get(id);
    if (!li) return;
    const fresh = this.render(this.messages.get(id));
    for (const name of li.classList) fresh.classList.add(name);
    const focused = li.contains(document.activeElement) ? controlKey(document.activeElement) : null;
    li.replaceWith(fresh);
    this.shown.set(id, fresh);
    if (focused) (fresh.querySelector(focused) || fresh).focus({ preventScroll: true });
  }

  // The message a reply quotes (see `handlers.original`).
  original(id) {
    return this.messages.has(id) ? this.messages.get(id) : this.handlers.original(id);
  }

  // The quotes of a message show it as it is now.
  refreshQuotes(id) {
    const original = this.original(id);
    if (original === undefined) return;
    for (const quote of this.el.list.querySelectorAll(`.quote[data-reply-to="${id}"]`)) {
      quote.replaceWith(renderQuote(id, original));
    }
  }

  // The <li> a message with this id goes before (ids ascend down the list, and our
  // pending messages stay below every stored one).
  successorOf(id) {
    let node = this.el.list.lastElementChild;
    let after = null;
    while (node) {
      if (node.dataset.id && Number(node.dataset.id) < id) break;
      if (node.dataset.id || node.classList.contains("pending")) after = node;
      node = node.previousElementSibling;
    }
    return after;
  }

  render(message, pending = false) {
    return renderMessage(message, {
      me: this.me,
      ui: this.ui,
      pending,
      nameOf: (id) => this.nameOf(id),
      original: (id) => this.original(id),
      mentionNames: (m) => this.mentionNames(m),
    });
  }

  // Clicks on a message's parts: its menu button, a reaction, the quote.
  clicked(event) {
    const target = event.target.closest("button");
    const li = target && target.closest(".message[data-id]");
    if (!li) return;
    const id = Number(li.dataset.id);
    if (target.classList.contains("message-actions")) this.handlers.onMenu(id, target);
    else if (target.classList.contains("reaction")) {
      this.handlers.onReact(id, target.dataset.emoji, target.getAttribute("aria-pressed") !== "true");
    } else if (target.classList.contains("quote")) this.handlers.onQuote(Number(target.dataset.replyTo));
  }

  // Scrolls to a message and highlights it for a moment, its menu button focused.
  highlight(id) {
    const li = this.shown.get(id);
    if (!li) return;
    li.scrollIntoView({ block: "center" });
    this.pinned = this.nearBottom(); // the reader stays at the message, not at the end
    li.classList.remove("highlight");
    void li.offsetWidth; // the animation starts again on a second jump
    li.classList.add("highlight");
    clearTimeout(li.highlightTimer);
    li.highlightTimer = setTimeout(() => this.shown.get(id)?.classList.remove("highlight"), HIGHLIGHT_MS);
    const target = li.querySelector(".message-actions") || li;
    if (target === li) li.tabIndex = -1; // a deleted message has no button
    target.focus({ preventScroll: true });
  }

  // The server said to start over from its latest page: every stored message goes.
  clear() {
    for (const li of this.shown.values()) li.remove();
    this.shown.clear();
    this.messages.clear();
    this.newestId = 0;
    this.oldestId = null;
  }

  // Day separators, the "new messages" divider, and grouping of consecutive messages.
  refreshSeparators() {
    for (const sep of this.el.list.querySelectorAll(".day-separator, .new-divider")) sep.remove();
    const items = Array.from(this.el.list.children);
    const layout = listLayout(items.map(describe), { lastRead: this.lastRead, meId: this.me.id });
    items.forEach((li, i) => {
      if (layout[i].daySeparator) this.insertSeparator(li, "day-separator", this.ui.dayLabel(li.dataset.sentAt));
      if (layout[i].newDivider) this.insertSeparator(li, "new-divider", "New messages");
      li.classList.toggle("continued", layout[i].continued);
    });
  }

  // An item of the list of its own ("Today", "New messages"): a list holds list items
  // only, and a screen reader reads it where it stands.
  insertSeparator(before, className, text) {
    const sep = document.createElement("li");
    sep.className = className;
    sep.textContent = text;
    this.el.list.insertBefore(sep, before);
  }

  // Someone read up to `id` (here or in another tab): the divider moves down next time.
  readUpTo(id) {
    this.lastRead = Math.max(this.lastRead, id);
  }

  // ---- our pending messages ----

  // Ours, typed and not stored yet: at the end of the list, "sending…".
  addPending(text, replyTo = null) {
    const li = this.render({ id: 0, user: this.me, text, reply_to: replyTo, sent_at: new Date().toISOString() }, true);
    li.classList.add("pending");
    delete li.dataset.id;
    const status = li.querySelector("time");
    status.removeAttribute("datetime");
    status.textContent = NOTES.sending;
    this.el.list.appendChild(li);
    this.refreshSeparators();
    return li;
  }

  // The line above a pending message says where it is (a key of NOTES); a problem keeps
  // it in view.
  note(li, state) {
    li.querySelector("time").textContent = NOTES[state];
    li.classList.toggle("waiting", state !== "sending");
  }

  // Its stored copy arrived, or its text went back to the composer. The caller redraws
  // the separators.
  removePending(li) {
    li.remove();
  }

  // Refused for good while the composer held other text: it stays, marked, with a
  // button to edit it.
  markFailed(li, onEdit) {
    li.classList.add("failed");
    this.note(li, "failed");
    li.querySelector(".bubble").appendChild(failureRow("", "Edit and resend", onEdit));
  }

  // An edit of ours was refused while the composer held other text: the message says
  // so, with a button to take the edit up again (until the message is drawn again).
  markEditFailed(id, onEdit) {
    const li = this.shown.get(id);
    if (li) li.querySelector(".bubble").appendChild(failureRow("Your edit was not saved.", "Edit again", onEdit));
  }

  // The message being edited in the composer (null: none) shows as such.
  markEditing(id) {
    for (const li of this.el.list.querySelectorAll(".message.being-edited")) li.classList.remove("being-edited");
    if (id !== null) this.shown.get(id)?.classList.add("being-edited");
  }

  // A reply to a message too far back to load shows it whole in its quote.
  expandQuotes(id) {
    const original = this.original(id);
    if (!original || original.deleted) return;
    for (const quote of this.el.list.querySelectorAll(`.quote[data-reply-to="${id}"]`)) {
      quote.classList.add("expanded");
      quote.querySelector(".quote-text").textContent = original.text;
    }
  }

  // ---- scrolling and history ----

  nearBottom() {
    const s = this.el.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  // More than half a screen above the end: the jump button shows even with nothing new.
  farFromBottom() {
    const s = this.el.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight > s.clientHeight / 2;
  }

  nearTop() {
    return this.el.scroller.scrollTop < 120;
  }

  // The list does not fill the screen yet: older history should come.
  wantsMore() {
    return this.el.scroller.scrollHeight <= this.el.scroller.clientHeight + 120;
  }

  scrollToBottom() {
    this.el.scroller.scrollTop = this.el.scroller.scrollHeight;
  }

  // On opening the page: the end of the conversation, or where the unread messages
  // begin when they are more than a screenful.
  showFirstUnread() {
    this.scrollToBottom();
    const divider = this.el.list.querySelector(".new-divider");
    if (divider && divider.offsetTop < this.el.scroller.scrollTop) {
      this.el.scroller.scrollTop = Math.max(0, divider.offsetTop - 8);
    }
  }

  // Runs `addOlder` (which puts messages above) keeping what the reader was looking at
  // in place.
  keepingPosition(addOlder) {
    const before = this.el.scroller.scrollHeight;
    addOlder();
    this.el.scroller.scrollTop += this.el.scroller.scrollHeight - before;
  }

  showLoading(loading) {
    this.el.loading.hidden = !loading;
  }

  // "The beginning of the conversation" shows at the top when there is no older history.
  setHasOlder(hasOlder) {
    this.el.edge.hidden = hasOlder;
  }
}

// What the layout needs to know of an <li>, as the DOM keeps it.
function describe(li) {
  return {
    id: li.dataset.id,
    userId: li.dataset.userId,
    day: li.dataset.day,
    sentAt: li.dataset.sentAt,
    failed: li.classList.contains("failed"),
  };
}
