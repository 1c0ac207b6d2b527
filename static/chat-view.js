// The chat page's view: the connection status, who is online, who is typing, what
// screen readers hear, the count of unseen messages, and the parts of its own: the
// message list (chat-message-list.js), the composer (chat-composer.js) and its @
// suggestions (chat-mention-picker.js). It owns what is on screen; chat.js decides
// what happens and tells it.

import { Composer } from "./chat-composer.js";
import { MentionPicker } from "./chat-mention-picker.js";
import { MessageList } from "./chat-message-list.js";
import { jumpText, secondsLeft, stillTyping, titleWithUnseen, typingText } from "./chat-format.js";

// How long a "typing" sign lasts without another one.
const TYPING_LASTS_MS = 4000;

const byId = (id) => document.getElementById(id);

export class ChatView {
  // handlers: onSend(), onDraftInput(), onScroll(), onSeen() (the reader may have seen
  // the latest messages: after a jump to them), onJump() (the jump button, before it
  // scrolls), onEditLast(), and `list`, the message list's (see MessageList). people:
  // whom the @ suggestions offer (a RoomPeople).
  constructor({ me, maxChars, lastRead, people }, handlers) {
    this.me = me;
    this.handlers = handlers;
    this.ui = window.ChatUI;
    this.el = {
      status: byId("status"),
      typing: byId("typing"),
      announcer: byId("announcer"),
      jump: byId("jump"),
      members: byId("member-list"),
      membersPanel: byId("members"),
      membersToggle: byId("members-toggle"),
      membersClose: byId("members-close"),
      onlineCount: byId("online-count"),
      topic: byId("chat-topic"),
      removed: byId("room-removed"),
      removedText: byId("room-removed-text"),
      newer: byId("newer-loading"),
    };
    const scroller = byId("messages");
    this.list = new MessageList(
      { scroller, list: byId("message-list"), edge: byId("history-edge"), loading: byId("history-loading") },
      me,
      lastRead,
      handlers.list,
    );
    this.mentions = new MentionPicker({ draft: byId("draft"), list: byId("mention-list") }, { me, ui: this.ui, people });
    this.composer = new Composer(
      {
        form: byId("composer"),
        draft: byId("draft"),
        count: byId("draft-count"),
        error: byId("composer-error"),
        blocked: byId("composer-blocked"),
        send: byId("send"),
        mode: byId("composer-mode"),
        modeText: byId("composer-mode-text"),
        modeSnippet: byId("composer-mode-snippet"),
        modeCancel: byId("composer-mode-cancel"),
      },
      maxChars,
      {
        onSend: handlers.onSend,
        onInput: handlers.onDraftInput,
        onEditLast: handlers.onEditLast,
        onKeyDown: (event) => this.mentions.keydown(event),
        onModeChange: (mode) => this.list.markEditing(mode && mode.kind === "edit" ? mode.id : null),
      },
    );
    this.online = new Map(); // user id -> user, for who is online
    this.list.otherNames = this.online; // reactions name who is online too
    this.typing = new Map(); // user id -> {nickname, until}: who is typing
    this.unseen = 0; // messages from others not yet seen (tab hidden or scrolled up)
    this.detached = false; // the list ends before the latest messages (opened at one)
    this.countdown = null; // ticks the "reconnecting in" seconds
    this.baseTitle = document.title;
    setInterval(() => this.renderTyping(), 1000);
    this.listen(scroller);
  }

  listen(scroller) {
    scroller.addEventListener("scroll", () => this.handlers.onScroll());
    this.el.jump.addEventListener("click", () => {
      this.handlers.onJump();
      this.list.scrollToBottom();
      this.handlers.onSeen();
      this.composer.focus();
    });
    this.el.membersToggle.addEventListener("click", () => this.showMembers(!this.membersOpen()));
    this.el.membersClose.addEventListener("click", () => this.showMembers(false));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.membersOpen()) this.showMembers(false);
    });
  }

  // ---- connection status ----

  setStatus(state, text) {
    this.el.status.dataset.state = state;
    this.el.status.textContent = text;
  }

  showConnecting(attempt) {
    clearInterval(this.countdown);
    this.setStatus("connecting", attempt === 0 ? "Connecting…" : "Reconnecting…");
  }

  // The seconds count down on screen only: a screen reader hears the state once.
  showOffline(retryAt) {
    this.setStatus("offline", "Offline. Reconnecting");
    const seconds = document.createElement("span");
    seconds.setAttribute("aria-hidden", "true");
    this.el.status.append(seconds);
    const tick = () => {
      seconds.textContent = ` in ${secondsLeft(retryAt, Date.now())} s…`;
    };
    tick();
    this.countdown = setInterval(tick, 1000);
  }

  showOnline(back) {
    clearInterval(this.countdown);
    this.setStatus("online", back ? "Back online" : "Online");
  }

  // ---- the room ----

  setTopic(topic) {
    this.el.topic.textContent = topic;
    this.el.topic.title = topic;
    this.el.topic.hidden = !topic;
  }

  // Out of the room for good (banned, or the room deleted): why, and the way back.
  showRemoved(text, status) {
    clearInterval(this.countdown);
    this.setStatus("removed", status);
    this.el.removedText.textContent = text;
    this.el.removed.hidden = false;
    this.typing.clear();
    this.renderTyping();
    this.setMembers([]); // nobody is seen online here any more
  }

  // ---- people ----

  setMembers(members) {
    this.online.clear();
    for (const member of members) this.online.set(member.id, member);
    this.renderMembers();
  }

  memberOnline(user, online) {
    if (online) this.online.set(user.id, user);
    else this.online.delete(user.id);
    this.renderMembers();
    if (!online) this.stoppedTyping(user.id); // gone: no longer typing here
  }

  // Someone online changed their nickname or picture.
  userChanged(user) {
    if (!this.online.has(user.id)) return;
    this.online.set(user.id, user);
    this.renderMembers();
  }

  renderMembers() {
    const sorted = Array.from(this.online.values()).sort((a, b) => a.nickname.localeCompare(b.nickname));
    this.el.members.replaceChildren(...sorted.map((user) => this.renderMember(user)));
    this.el.onlineCount.textContent = String(this.online.size);
  }

  renderMember(user) {
    const li = document.createElement("li");
    const avatar = this.ui.avatarFor(user, "avatar avatar-sm");
    const name = document.createElement("span");
    name.textContent = user.nickname + (user.id === this.me.id ? " (you)" : "");
    const dot = document.createElement("span");
    dot.className = "online-dot";
    dot.setAttribute("aria-hidden", "true");
    li.append(avatar, name, dot);
    return li;
  }

  membersOpen() {
    return this.el.membersPanel.classList.contains("open");
  }

  // At phone width the people list slides over the conversation.
  showMembers(open) {
    this.el.membersPanel.classList.toggle("open", open);
    this.el.membersToggle.setAttribute("aria-expanded", String(open));
    (open ? this.el.membersClose : this.el.membersToggle).focus();
  }

  // Kept by user id: a nickname changed meanwhile is still one person typing.
  someoneTyping(user) {
    const sign = { nickname: user.nickname, until: Date.now() + TYPING_LASTS_MS };
    this.typing.delete(user.id); // in the order they (re)started
    this.typing.set(user.id, sign);
    this.renderTyping();
  }

  // Their message arrived, or they left: the sign goes at once, not when it runs out.
  stoppedTyping(userId) {
    if (this.typing.delete(userId)) this.renderTyping();
  }

  renderTyping() {
    const text = typingText(stillTyping(this.typing, Date.now()));
    if (this.el.typing.textContent !== text) this.el.typing.textContent = text;
  }

  // Screen readers hear new messages from a live region of their own, so that loading
  // history or redrawing separators is not read out.
  announce(text) {
    const line = document.createElement("p");
    line.textContent = text;
    this.el.announcer.appendChild(line);
    while (this.el.announcer.childElementCount > 3) this.el.announcer.firstElementChild.remove();
  }

  // ---- unseen messages: in the title while the tab is hidden, on the jump button
  // while the reader is scrolled up ----

  countUnseen() {
    this.unseen += 1;
    this.renderUnseen();
  }

  // After a scroll or a return to the tab: the reader at the end of a visible page has
  // seen everything.
  seen() {
    this.renderJump();
    if (document.hidden || this.detached || !this.list.nearBottom()) return;
    if (this.unseen > 0) {
      this.unseen = 0;
      this.renderUnseen();
    }
  }

  renderUnseen() {
    document.title = titleWithUnseen(this.baseTitle, this.unseen);
    this.renderJump();
  }

  // Opened at an older message, with more after the list than it shows: the jump
  // button leads to the latest, newer pages load at the end.
  setDetached(detached) {
    this.detached = detached;
    this.renderJump();
  }

  showLoadingNewer(loading) {
    this.el.newer.hidden = !loading;
  }

  renderJump() {
    const away = this.detached || this.list.farFromBottom();
    this.el.jump.hidden = !away && (this.unseen === 0 || this.list.nearBottom());
    this.el.jump.textContent = jumpText(this.unseen);
  }
}
