// The chat page: one WebSocket, one room. No framework, no build step: ES modules,
// this one for the view and what the frames do to it, chat-connection.js for the
// socket and its reconnection, chat-outbox.js for what was typed and not yet stored.
//
// Promises it keeps: a message shows as pending until the server acknowledges it
// (stored), and goes again with the same client_id after a drop or a refusal that may
// pass (rate limit, storage unavailable), so it is never lost nor doubled; a refusal
// that will not pass (too long, not allowed) puts the text back in the composer with
// the reason; after a dropped connection it reconnects with backoff and rejoins with
// `since` = the last id seen; every message is shown once (de-duplicated by id); text
// goes in with textContent, never as HTML.
import { Connection } from "./chat-connection.js";
import { Outbox } from "./chat-outbox.js";

function main() {
  const root = document.getElementById("chat");
  if (!root) return;
  const UI = window.ChatUI;
  const room = root.dataset.room;
  const me = { id: Number(root.dataset.meId), nickname: root.dataset.meNickname };
  const maxChars = Number(root.dataset.maxChars) || 4000;
  const pageSize = Number(root.dataset.page) || 50;
  let lastRead = Number(root.dataset.lastRead) || 0;

  const el = {
    scroller: document.getElementById("messages"),
    list: document.getElementById("message-list"),
    edge: document.getElementById("history-edge"),
    loading: document.getElementById("history-loading"),
    jump: document.getElementById("jump"),
    status: document.getElementById("status"),
    typing: document.getElementById("typing"),
    announcer: document.getElementById("announcer"),
    form: document.getElementById("composer"),
    draft: document.getElementById("draft"),
    count: document.getElementById("draft-count"),
    error: document.getElementById("composer-error"),
    members: document.getElementById("member-list"),
    membersPanel: document.getElementById("members"),
    membersToggle: document.getElementById("members-toggle"),
    membersClose: document.getElementById("members-close"),
    onlineCount: document.getElementById("online-count"),
  };

  // ---- state ----
  const shown = new Map(); // message id -> <li>
  // What was typed and not acknowledged yet (chat-outbox.js); each item's `view` is its <li>.
  const outbox = new Outbox();
  const online = new Map(); // user id -> nickname
  const typingUntil = new Map(); // nickname -> time
  let lastId = 0; // the highest id seen: the `since` of the next join
  let oldestId = null; // the lowest id shown: where older history continues
  let hasOlder = true;
  let loadingOlder = false;
  let joined = false;
  let everJoined = false;
  let countdown = null; // ticks the "reconnecting in" seconds
  let unseen = 0; // messages from others not yet seen (tab hidden or scrolled up)
  let lastTypingSent = 0;
  let readSent = lastRead;
  let holdTimer = null;
  const baseTitle = document.title;

  // ---- connection ----
  function setStatus(state, text) {
    el.status.dataset.state = state;
    el.status.textContent = text;
  }

  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const connection = new Connection(`${scheme}://${location.host}/ws`, {
    onConnecting(attempt) {
      clearInterval(countdown);
      setStatus("connecting", attempt === 0 ? "Connecting…" : "Reconnecting…");
    },
    onOpen() {
      const join = { type: "join", room };
      if (lastId > 0) join.since = lastId;
      connection.send(join);
    },
    onFrame: handle,
    onClose() {
      joined = false;
      // What was in flight goes again after the rejoin; until then it waits.
      for (const p of outbox.connectionLost()) note(p, "waiting for the connection…");
    },
    onLoggedOut() {
      location.assign("/login");
    },
    onRetry(delay, attempt) {
      // The seconds count down on screen only: a screen reader hears the state once.
      const at = Date.now() + delay;
      setStatus("offline", "Offline. Reconnecting");
      const seconds = document.createElement("span");
      seconds.setAttribute("aria-hidden", "true");
      el.status.append(seconds);
      const tick = () => {
        seconds.textContent = ` in ${Math.max(1, Math.ceil((at - Date.now()) / 1000))} s…`;
      };
      tick();
      countdown = setInterval(tick, 1000);
      if (attempt >= 2) checkSession();
    },
  });

  // A socket that keeps failing may mean the login ended (the upgrade gets 401).
  async function checkSession() {
    try {
      const response = await fetch("/api/me", { headers: { Accept: "application/json" } });
      if (response.status === 401) location.assign("/login");
    } catch (_) {
      // The server is unreachable: keep trying to reconnect.
    }
  }

  function sendFrame(frame) {
    return joined && connection.send(frame);
  }

  // ---- frames ----
  function handle(frame) {
    switch (frame.type) {
      case "joined": return onJoined(frame);
      case "message": return onMessage(frame.message);
      case "history": return onHistory(frame);
      case "presence": return onPresence(frame);
      case "typing": return onTyping(frame);
      case "read": return onRead(frame);
      case "error": return onError(frame);
    }
  }

  function onJoined(frame) {
    joined = true;
    connection.established();
    clearInterval(countdown);
    setStatus("online", everJoined ? "Back online" : "Online");
    if (everJoined) setTimeout(() => { if (joined) setStatus("online", "Online"); }, 3000);
    const first = !everJoined;
    everJoined = true;
    online.clear();
    for (const member of frame.members) online.set(member.id, member.nickname);
    renderMembers();
    const stick = first || nearBottom();
    let missed = 0;
    for (const message of frame.messages) {
      if (addMessage(message) && !first && message.user.id !== me.id) missed += 1;
    }
    refreshSeparators();
    if (missed > 0) announce(missed === 1 ? "1 new message" : `${missed} new messages`);
    if (first) {
      hasOlder = frame.messages.length >= pageSize || !!frame.limited;
      el.edge.hidden = hasOlder;
    } else if (frame.limited) {
      hasOlder = true;
    }
    if (first) showFirstUnread();
    else if (stick) scrollToBottom();
    // Whatever was not acknowledged before the connection dropped goes again, with
    // its client_id, so the server stores it at most once.
    flush();
    markRead();
    fillScreen();
  }

  function onMessage(message) {
    if (message.room !== room) return;
    const mine = message.user.id === me.id;
    const stick = nearBottom() || mine;
    if (!addMessage(message)) return;
    refreshSeparators();
    if (mine) {
      outbox.gotThrough();
      if (el.error.dataset.kind === "retry" && !outbox.held()) hideComposerError();
    } else {
      announce(`${message.user.nickname}: ${message.text}`);
    }
    if (stick) scrollToBottom();
    if (!mine && (document.hidden || !stick)) {
      unseen += 1;
      renderUnseen();
    }
    markRead();
  }

  function onHistory(frame) {
    if (frame.room !== room) return;
    loadingOlder = false;
    el.loading.hidden = true;
    hasOlder = frame.has_more;
    el.edge.hidden = hasOlder;
    const before = el.scroller.scrollHeight;
    for (const message of frame.messages.slice().reverse()) addMessage(message);
    refreshSeparators();
    // Keep what the reader was looking at in place.
    el.scroller.scrollTop += el.scroller.scrollHeight - before;
    fillScreen();
  }

  function onPresence(frame) {
    if (frame.room !== room) return;
    if (frame.online) online.set(frame.user.id, frame.user.nickname);
    else online.delete(frame.user.id);
    renderMembers();
  }

  function onTyping(frame) {
    if (frame.room !== room || frame.user.id === me.id) return;
    typingUntil.set(frame.user.nickname, Date.now() + 4000);
    renderTyping();
  }

  function onRead(frame) {
    if (frame.room !== room) return;
    lastRead = Math.max(lastRead, frame.message_id);
    readSent = Math.max(readSent, frame.message_id);
  }

  function onError(frame) {
    if (frame.client_id && outbox.get(frame.client_id)) {
      if (frame.code === "unavailable" || frame.code === "rate_limited") refusedForNow(frame.client_id, frame.message);
      else refused(frame.client_id, frame.message);
      return;
    }
    if (frame.code === "not_found" || frame.code === "forbidden") {
      showComposerError(capitalize(frame.message), "fatal");
    }
  }

  // ---- rendering ----
  function authorOf(li) { return li && li.dataset.userId; }

  // The <li> a message with this id goes before (ids ascend down the list).
  function successorOf(id) {
    let node = el.list.lastElementChild;
    let after = null;
    while (node) {
      if (node.dataset.id && Number(node.dataset.id) < id) break;
      if (node.dataset.id || node.classList.contains("pending")) after = node;
      node = node.previousElementSibling;
    }
    return after;
  }

  // Puts a message in its place in the list, once; false when it was there already.
  // The caller redraws the separators (once for a whole batch).
  function addMessage(message) {
    if (shown.has(message.id)) return false;
    lastId = Math.max(lastId, message.id);
    oldestId = oldestId === null ? message.id : Math.min(oldestId, message.id);
    const ack = message.user.id === me.id && outbox.acknowledged(message.client_id);
    if (ack) ack.view.remove();
    const li = renderMessage(message);
    shown.set(message.id, li);
    el.list.insertBefore(li, successorOf(message.id));
    return true;
  }

  function renderMessage(message) {
    const li = document.createElement("li");
    li.className = "message" + (message.user.id === me.id ? " mine" : "");
    li.dataset.id = message.id;
    li.dataset.userId = message.user.id;
    li.dataset.day = UI.dayKey(message.sent_at);
    li.dataset.sentAt = message.sent_at;

    const avatar = document.createElement("span");
    avatar.className = "avatar";
    avatar.setAttribute("aria-hidden", "true");
    avatar.dataset.name = message.user.nickname;
    avatar.textContent = UI.initials(message.user.nickname);
    UI.paintAvatar(avatar);

    const bubble = document.createElement("div");
    bubble.className = "bubble";
    const meta = document.createElement("p");
    meta.className = "meta";
    const who = document.createElement("span");
    who.className = "author";
    who.textContent = message.user.nickname;
    const when = document.createElement("time");
    when.dateTime = message.sent_at;
    when.textContent = UI.localTime(message.sent_at);
    when.title = new Date(message.sent_at).toLocaleString();
    meta.append(who, " ", when);
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = message.text;
    bubble.append(meta, text);
    li.append(avatar, bubble);
    return li;
  }

  // Day separators, the "new messages" divider, and grouping of consecutive messages.
  function refreshSeparators() {
    for (const sep of el.list.querySelectorAll(".day-separator, .new-divider")) sep.remove();
    let previous = null;
    let dividerPlaced = false;
    for (const li of Array.from(el.list.children)) {
      const day = li.dataset.day;
      let separated = false;
      if (day && (!previous || previous.dataset.day !== day)) {
        const sep = document.createElement("li");
        sep.className = "day-separator";
        sep.setAttribute("role", "separator");
        sep.textContent = UI.dayLabel(li.dataset.sentAt);
        el.list.insertBefore(sep, li);
        separated = true;
      }
      const id = Number(li.dataset.id || 0);
      if (!dividerPlaced && id > lastRead && lastRead > 0 && authorOf(li) !== String(me.id) && li.dataset.id) {
        const divider = document.createElement("li");
        divider.className = "new-divider";
        divider.setAttribute("role", "separator");
        divider.textContent = "New messages";
        el.list.insertBefore(divider, li);
        dividerPlaced = true;
        separated = true;
      }
      const continued = !separated && previous && authorOf(previous) === authorOf(li) &&
        !previous.classList.contains("failed") &&
        new Date(li.dataset.sentAt) - new Date(previous.dataset.sentAt) < 5 * 60000;
      li.classList.toggle("continued", !!continued);
      previous = li;
    }
  }

  function renderMembers() {
    el.members.replaceChildren();
    const sorted = Array.from(online.entries()).sort((a, b) => a[1].localeCompare(b[1]));
    for (const [id, nickname] of sorted) {
      const li = document.createElement("li");
      const avatar = document.createElement("span");
      avatar.className = "avatar avatar-sm";
      avatar.dataset.name = nickname;
      avatar.textContent = UI.initials(nickname);
      avatar.setAttribute("aria-hidden", "true");
      UI.paintAvatar(avatar);
      const name = document.createElement("span");
      name.textContent = nickname + (id === me.id ? " (you)" : "");
      const dot = document.createElement("span");
      dot.className = "online-dot";
      dot.setAttribute("aria-hidden", "true");
      li.append(avatar, name, dot);
      el.members.appendChild(li);
    }
    el.onlineCount.textContent = String(online.size);
  }

  function renderTyping() {
    const now = Date.now();
    const names = [];
    for (const [name, until] of typingUntil) {
      if (until > now) names.push(name); else typingUntil.delete(name);
    }
    const text = names.length === 0 ? "" :
      names.length === 1 ? `${names[0]} is typing…` :
      names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : "Several people are typing…";
    if (el.typing.textContent !== text) el.typing.textContent = text;
  }
  setInterval(renderTyping, 1000);

  // Screen readers hear new messages from a live region of their own, so that loading
  // history or redrawing separators is not read out.
  function announce(text) {
    const line = document.createElement("p");
    line.textContent = text;
    el.announcer.appendChild(line);
    while (el.announcer.childElementCount > 3) el.announcer.firstElementChild.remove();
  }

  // Unseen messages: in the title while the tab is hidden, on the jump button while
  // the reader is scrolled up.
  function renderUnseen() {
    document.title = unseen > 0 ? `(${unseen}) ${baseTitle}` : baseTitle;
    renderJump();
  }

  function renderJump() {
    const away = el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight > el.scroller.clientHeight / 2;
    el.jump.hidden = !away && (unseen === 0 || nearBottom());
    el.jump.textContent = unseen === 0 ? "Latest ↓" : unseen === 1 ? "1 new message ↓" : `${unseen} new messages ↓`;
  }

  function seen() {
    renderJump();
    if (document.hidden || !nearBottom()) return;
    if (unseen > 0) { unseen = 0; renderUnseen(); }
    markRead();
  }

  // On opening the page: the end of the conversation, or where the unread messages
  // begin when they are more than a screenful.
  function showFirstUnread() {
    scrollToBottom();
    const divider = el.list.querySelector(".new-divider");
    if (divider && divider.offsetTop < el.scroller.scrollTop) {
      el.scroller.scrollTop = Math.max(0, divider.offsetTop - 8);
    }
  }

  function nearBottom() {
    return el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight < 80;
  }

  function scrollToBottom() {
    el.scroller.scrollTop = el.scroller.scrollHeight;
  }

  // Older messages until the list fills the screen (or history ends).
  function fillScreen() {
    if (el.scroller.scrollHeight <= el.scroller.clientHeight + 120 && hasOlder) loadOlder();
  }

  // ---- sending ----
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function renderPending(text) {
    const li = renderMessage({ id: 0, user: me, text, sent_at: new Date().toISOString() });
    li.classList.add("pending");
    delete li.dataset.id;
    const status = li.querySelector("time");
    status.removeAttribute("datetime");
    status.textContent = "sending…";
    el.list.appendChild(li);
    refreshSeparators();
    return li;
  }

  // The line above a pending message says where it is; a problem keeps it in view.
  function note(p, text) {
    p.view.querySelector("time").textContent = text;
    p.view.classList.toggle("waiting", text !== "sending…");
  }

  // Sends what is queued, in order, unless a refusal asked to wait.
  function flush() {
    if (!joined) return;
    for (const p of outbox.due()) {
      if (!sendFrame({ type: "send", room, text: p.text, client_id: p.clientId })) return;
      outbox.sent(p);
      note(p, "sending…");
    }
  }

  // Not stored, but it may pass later: it stays in the list and goes again by itself.
  function refusedForNow(clientId, why) {
    const { item: p, delay } = outbox.refusedForNow(clientId);
    note(p, "not sent yet");
    showComposerError(`Not sent yet: ${why}. Trying again in ${Math.ceil(delay / 1000)} s; your message is kept.`, "retry");
    clearTimeout(holdTimer);
    holdTimer = setTimeout(flush, outbox.holdUntil - Date.now());
  }

  // Refused for good: the text goes back into the composer, with the reason, to fix.
  function refused(clientId, why) {
    const p = outbox.refusedForGood(clientId);
    if (!el.draft.value.trim()) {
      p.view.remove();
      refreshSeparators();
      el.draft.value = p.text;
      autosize();
      renderCount();
    } else {
      markFailed(p);
    }
    showComposerError(`Not sent: ${why}.`, "fatal");
    el.draft.focus();
  }

  // A refused message that could not go back into a non-empty composer stays in the
  // list, marked, with a button to edit it.
  function markFailed(p) {
    p.view.classList.add("failed");
    note(p, "not sent");
    const row = document.createElement("p");
    row.className = "failure";
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "link";
    edit.textContent = "Edit and resend";
    edit.addEventListener("click", () => {
      p.view.remove();
      refreshSeparators();
      el.draft.value = p.text;
      el.draft.focus();
      autosize();
      renderCount();
    });
    row.append(edit);
    p.view.querySelector(".bubble").appendChild(row);
  }

  function submit() {
    const text = el.draft.value.trim();
    if (!text) return;
    const length = Array.from(text).length;
    if (length > maxChars) {
      showComposerError(
        `Too long to send: ${length.toLocaleString()} characters, and a message has at most ${maxChars.toLocaleString()}.`,
        "fatal",
      );
      return;
    }
    hideComposerError();
    const clientId = newClientId();
    const p = outbox.add(clientId, text, renderPending(text));
    if (!joined) note(p, "waiting for the connection…");
    flush();
    el.draft.value = "";
    autosize();
    renderCount();
    scrollToBottom();
  }

  function showComposerError(text, kind) {
    el.error.textContent = text;
    el.error.dataset.kind = kind;
    el.error.hidden = false;
    el.draft.setAttribute("aria-invalid", kind === "fatal" ? "true" : "false");
  }

  function hideComposerError() {
    el.error.hidden = true;
    el.error.textContent = "";
    delete el.error.dataset.kind;
    el.draft.removeAttribute("aria-invalid");
  }

  function capitalize(text) {
    return text ? text[0].toUpperCase() + text.slice(1) : text;
  }

  // The message box grows with its text up to a limit, then scrolls.
  function autosize() {
    const draft = el.draft;
    draft.style.height = "auto";
    const border = draft.offsetHeight - draft.clientHeight;
    const height = Math.min(draft.scrollHeight + border, 160);
    draft.style.height = height + "px";
    draft.style.overflowY = draft.scrollHeight + border > 160 ? "auto" : "hidden";
  }

  // The count appears near the limit, and says by how much a draft is over it.
  function renderCount() {
    const length = Array.from(el.draft.value.trim()).length;
    const show = length > maxChars * 0.9;
    el.count.hidden = !show;
    el.count.classList.toggle("over", length > maxChars);
    if (show) el.count.textContent = `${length.toLocaleString()} / ${maxChars.toLocaleString()}`;
  }

  // ---- history and read markers ----
  function loadOlder() {
    if (!hasOlder || loadingOlder || !joined || oldestId === null) return;
    loadingOlder = true;
    el.loading.hidden = false;
    if (!sendFrame({ type: "history", room, before: oldestId, limit: pageSize })) {
      loadingOlder = false;
      el.loading.hidden = true;
    }
  }

  function markRead() {
    if (document.hidden || !joined || lastId <= readSent || !nearBottom()) return;
    readSent = lastId;
    sendFrame({ type: "read", room, message_id: lastId });
  }

  // ---- wiring ----
  el.form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  el.draft.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  el.draft.addEventListener("input", () => {
    autosize();
    renderCount();
    if (el.error.dataset.kind === "fatal" && Array.from(el.draft.value.trim()).length <= maxChars) {
      hideComposerError();
    }
    const now = Date.now();
    if (el.draft.value.trim() && now - lastTypingSent > 2500) {
      lastTypingSent = now;
      sendFrame({ type: "typing", room });
    }
  });
  el.scroller.addEventListener("scroll", () => {
    if (el.scroller.scrollTop < 120) loadOlder();
    seen();
  });
  el.jump.addEventListener("click", () => {
    scrollToBottom();
    seen();
    el.draft.focus();
  });
  // At phone width the people list slides over the conversation.
  function showMembers(open) {
    el.membersPanel.classList.toggle("open", open);
    el.membersToggle.setAttribute("aria-expanded", String(open));
    (open ? el.membersClose : el.membersToggle).focus();
  }
  el.membersToggle.addEventListener("click", () => showMembers(!el.membersPanel.classList.contains("open")));
  el.membersClose.addEventListener("click", () => showMembers(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && el.membersPanel.classList.contains("open")) showMembers(false);
  });
  document.addEventListener("visibilitychange", seen);
  window.addEventListener("online", () => connection.retryNow());
  // Leaving the page ends the connection at once, so the others see us go even when the
  // browser keeps the page for its Back button; coming back that way reconnects.
  window.addEventListener("pagehide", () => {
    connection.leave();
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    connection.resume();
  });

  connection.connect();
  el.draft.focus();
}

main();
