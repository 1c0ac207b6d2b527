// The conversation on screen: the list of messages, in id order and each once, with its
// separators, the pending messages of ours, and the scrolling. Text goes in with
// textContent, never as HTML.

import { listLayout } from "./chat-format.js";

// What the line above a pending message says (its <time> holds no time yet).
const NOTES = {
  sending: "sending…",
  waiting: "waiting for the connection…",
  held: "not sent yet",
  failed: "not sent",
};

export class MessageList {
  // elements: {scroller, list, edge, loading}; lastRead: the id read up to on arrival.
  constructor(elements, me, lastRead) {
    this.el = elements;
    this.me = me;
    this.ui = window.ChatUI;
    this.shown = new Map(); // message id -> <li>
    this.newestId = 0; // the highest id shown: the `since` of the next join
    this.oldestId = null; // the lowest id shown: where older history continues
    this.lastRead = lastRead; // where the "New messages" divider goes
  }

  has(id) {
    return this.shown.has(id);
  }

  // Puts a stored message in its place. The caller checks `has` first, and redraws
  // the separators (once for a whole batch).
  add(message) {
    this.newestId = Math.max(this.newestId, message.id);
    this.oldestId = this.oldestId === null ? message.id : Math.min(this.oldestId, message.id);
    const li = this.render(message);
    this.shown.set(message.id, li);
    this.el.list.insertBefore(li, this.successorOf(message.id));
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

  render(message) {
    const li = document.createElement("li");
    li.className = "message" + (message.user.id === this.me.id ? " mine" : "");
    li.dataset.id = message.id;
    li.dataset.userId = message.user.id;
    li.dataset.day = this.ui.dayKey(message.sent_at);
    li.dataset.sentAt = message.sent_at;
    const avatar = this.renderAvatar(message.user.nickname);
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.append(this.renderMeta(message), this.renderText(message));
    li.append(avatar, bubble);
    return li;
  }

  renderAvatar(nickname) {
    const avatar = document.createElement("span");
    avatar.className = "avatar";
    avatar.setAttribute("aria-hidden", "true");
    avatar.dataset.name = nickname;
    avatar.textContent = this.ui.initials(nickname);
    this.ui.paintAvatar(avatar);
    return avatar;
  }

  renderMeta(message) {
    const meta = document.createElement("p");
    meta.className = "meta";
    const who = document.createElement("span");
    who.className = "author";
    who.textContent = message.user.nickname;
    const when = document.createElement("time");
    when.dateTime = message.sent_at;
    when.textContent = this.ui.localTime(message.sent_at);
    when.title = new Date(message.sent_at).toLocaleString();
    meta.append(who, " ", when);
    return meta;
  }

  renderText(message) {
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = message.text;
    return text;
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

  insertSeparator(before, className, text) {
    const sep = document.createElement("li");
    sep.className = className;
    sep.setAttribute("role", "separator");
    sep.textContent = text;
    this.el.list.insertBefore(sep, before);
  }

  // Someone read up to `id` (here or in another tab): the divider moves down next time.
  readUpTo(id) {
    this.lastRead = Math.max(this.lastRead, id);
  }

  // ---- our pending messages ----

  // Ours, typed and not stored yet: at the end of the list, "sending…".
  addPending(text) {
    const li = this.render({ id: 0, user: this.me, text, sent_at: new Date().toISOString() });
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
    const row = document.createElement("p");
    row.className = "failure";
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "link";
    edit.textContent = "Edit and resend";
    edit.addEventListener("click", onEdit);
    row.append(edit);
    li.querySelector(".bubble").appendChild(row);
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
