// The chat page's view: the connection status, who is online, who is typing, what
// screen readers hear, the count of unseen messages, and the two parts of its own:
// the message list (chat-message-list.js) and the composer (chat-composer.js). It
// owns what is on screen; chat.js decides what happens and tells it.

import { Composer } from "./chat-composer.js";
import { MessageList } from "./chat-message-list.js";
import { jumpText, secondsLeft, stillTyping, titleWithUnseen, typingText } from "./chat-format.js";

// How long a "typing" sign lasts without another one.
const TYPING_LASTS_MS = 4000;

const byId = (id) => document.getElementById(id);

export class ChatView {
  // handlers: onSend(), onDraftInput(), onScroll(), onSeen() (the reader may have seen
  // the latest messages: after a jump to them), onEditLast(), and `list`, the message
  // list's (see MessageList).
  constructor({ me, maxChars, lastRead }, handlers) {
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
    };
    const scroller = byId("messages");
    this.list = new MessageList(
      { scroller, list: byId("message-list"), edge: byId("history-edge"), loading: byId("history-loading") },
      me,
      lastRead,
      handlers.list,
    );
    this.composer = new Composer(
      {
        form: byId("composer"),
        draft: byId("draft"),
        count: byId("draft-count"),
        error: byId("composer-error"),
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
        onModeChange: (mode) => this.list.markEditing(mode && mode.kind === "edit" ? mode.id : null),
      },
    );
    this.online = new Map(); // user id -> nickname
    this.list.otherNames = this.online; // reactions name who is online too
    this.typingUntil = new Map(); // nickname -> time
    this.unseen = 0; // messages from others not yet seen (tab hidden or scrolled up)
    this.countdown = null; // ticks the "reconnecting in" seconds
    this.baseTitle = document.title;
    setInterval(() => this.renderTyping(), 1000);
    this.listen(scroller);
  }

  listen(scroller) {
    scroller.addEventListener("scroll", () => this.handlers.onScroll());
    this.el.jump.addEventListener("click", () => {
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

  // ---- people ----

  setMembers(members) {
    this.online.clear();
    for (const member of members) this.online.set(member.id, member.nickname);
    this.renderMembers();
  }

  memberOnline(user, online) {
    if (online) this.online.set(user.id, user.nickname);
    else this.online.delete(user.id);
    this.renderMembers();
  }

  renderMembers() {
    const sorted = Array.from(this.online.entries()).sort((a, b) => a[1].localeCompare(b[1]));
    this.el.members.replaceChildren(...sorted.map(([id, nickname]) => this.renderMember(id, nickname)));
    this.el.onlineCount.textContent = String(this.online.size);
  }

  renderMember(id, nickname) {
    const li = document.createElement("li");
    const avatar = document.createElement("span");
    avatar.className = "avatar avatar-sm";
    avatar.dataset.name = nickname;
    avatar.textContent = this.ui.initials(nickname);
    avatar.setAttribute("aria-hidden", "true");
    this.ui.paintAvatar(avatar);
    const name = document.createElement("span");
    name.textContent = nickname + (id === this.me.id ? " (you)" : "");
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

  someoneTyping(nickname) {
    this.typingUntil.set(nickname, Date.now() + TYPING_LASTS_MS);
    this.renderTyping();
  }

  renderTyping() {
    const text = typingText(stillTyping(this.typingUntil, Date.now()));
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
    if (document.hidden || !this.list.nearBottom()) return;
    if (this.unseen > 0) {
      this.unseen = 0;
      this.renderUnseen();
    }
  }

  renderUnseen() {
    document.title = titleWithUnseen(this.baseTitle, this.unseen);
    this.renderJump();
  }

  renderJump() {
    const away = this.list.farFromBottom();
    this.el.jump.hidden = !away && (this.unseen === 0 || this.list.nearBottom());
    this.el.jump.textContent = jumpText(this.unseen);
  }
}
