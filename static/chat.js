// The chat page: one WebSocket, one room. No framework, no build step.
//
// Promises it keeps: a message shows as pending until the server acknowledges it
// (stored), and is re-sent with the same client_id after a failure, so it is never
// lost nor doubled; after a dropped connection it reconnects with backoff and rejoins
// with `since` = the last id seen; every message is shown once (de-duplicated by id);
// text goes in with textContent, never as HTML.
"use strict";
(function () {
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
    status: document.getElementById("status"),
    typing: document.getElementById("typing"),
    form: document.getElementById("composer"),
    draft: document.getElementById("draft"),
    send: document.getElementById("send"),
    error: document.getElementById("composer-error"),
    members: document.getElementById("member-list"),
    membersPanel: document.getElementById("members"),
    membersToggle: document.getElementById("members-toggle"),
    onlineCount: document.getElementById("online-count"),
  };

  // ---- state ----
  const shown = new Map(); // message id -> <li>
  const pending = new Map(); // client_id -> {text, li, sent: bool}
  const online = new Map(); // user id -> nickname
  const typingUntil = new Map(); // nickname -> time
  let lastId = 0; // the highest id seen: the `since` of the next join
  let oldestId = null; // the lowest id shown: where older history continues
  let hasOlder = true;
  let loadingOlder = false;
  let socket = null;
  let joined = false;
  let attempt = 0;
  let everJoined = false;
  let unseenWhileHidden = 0;
  let lastTypingSent = 0;
  let readSent = lastRead;
  const baseTitle = document.title;

  // ---- connection ----
  function setStatus(state, text) {
    el.status.dataset.state = state;
    el.status.textContent = text;
  }

  function connect() {
    setStatus("connecting", attempt === 0 ? "Connecting…" : "Reconnecting…");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws`);
    socket.addEventListener("open", () => {
      const join = { type: "join", room };
      if (lastId > 0) join.since = lastId;
      socket.send(JSON.stringify(join));
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      handle(frame);
    });
    socket.addEventListener("close", (event) => {
      joined = false;
      socket = null;
      if (event.code === 1008 && /logged out/.test(event.reason)) return location.assign("/login");
      attempt += 1;
      // Exponential backoff with jitter, capped at 15 s.
      const delay = Math.min(15000, 500 * 2 ** Math.min(attempt, 5)) * (0.75 + Math.random() / 2);
      setStatus("offline", `Offline. Reconnecting in ${Math.ceil(delay / 1000)} s…`);
      setTimeout(connect, delay);
    });
  }

  function sendFrame(frame) {
    if (socket && socket.readyState === WebSocket.OPEN && joined) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
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
    attempt = 0;
    setStatus("online", everJoined ? "Back online" : "Online");
    if (everJoined) setTimeout(() => { if (joined) setStatus("online", "Online"); }, 2500);
    const first = !everJoined;
    everJoined = true;
    online.clear();
    for (const member of frame.members) online.set(member.id, member.nickname);
    renderMembers();
    const stick = first || nearBottom();
    for (const message of frame.messages) addMessage(message);
    if (first) {
      hasOlder = frame.messages.length >= pageSize || !!frame.limited;
      el.edge.hidden = hasOlder;
    } else if (frame.limited) {
      hasOlder = true;
    }
    // Whatever was not acknowledged before the connection dropped goes again, with
    // its client_id, so the server stores it at most once.
    for (const [clientId, p] of pending) {
      if (!p.failed) transmit(clientId, p);
    }
    if (stick) scrollToBottom();
    markRead();
    if (first && el.scroller.scrollHeight <= el.scroller.clientHeight && hasOlder) loadOlder();
  }

  function onMessage(message) {
    if (message.room !== room) return;
    const stick = nearBottom() || message.user.id === me.id;
    addMessage(message);
    if (stick) scrollToBottom();
    if (document.hidden && message.user.id !== me.id) {
      unseenWhileHidden += 1;
      document.title = `(${unseenWhileHidden}) ${baseTitle}`;
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
    // Keep what the reader was looking at in place.
    el.scroller.scrollTop += el.scroller.scrollHeight - before;
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
    if (frame.client_id && pending.has(frame.client_id)) {
      const p = pending.get(frame.client_id);
      if (frame.code === "unavailable" || frame.code === "rate_limited") {
        // Not stored: the same client_id goes again shortly.
        markPending(p, frame.code === "rate_limited" ? "Sending too fast; retrying…" : "Server busy; retrying…");
        setTimeout(() => { if (pending.has(frame.client_id)) transmit(frame.client_id, p); }, 1500);
      } else {
        p.failed = true;
        markFailed(frame.client_id, p, frame.message);
      }
      return;
    }
    if (frame.code === "not_found" || frame.code === "forbidden") {
      showComposerError(frame.message);
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

  function addMessage(message) {
    if (shown.has(message.id)) return;
    lastId = Math.max(lastId, message.id);
    oldestId = oldestId === null ? message.id : Math.min(oldestId, message.id);
    const ack = message.user.id === me.id && pending.get(message.client_id);
    if (ack) {
      pending.delete(message.client_id);
      ack.li.remove();
    }
    const li = renderMessage(message);
    shown.set(message.id, li);
    el.list.insertBefore(li, successorOf(message.id));
    refreshSeparators();
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
      if (day && (!previous || previous.dataset.day !== day)) {
        const sep = document.createElement("li");
        sep.className = "day-separator";
        sep.setAttribute("role", "separator");
        sep.textContent = UI.dayLabel(li.dataset.sentAt);
        el.list.insertBefore(sep, li);
      }
      const id = Number(li.dataset.id || 0);
      if (!dividerPlaced && id > lastRead && lastRead > 0 && authorOf(li) !== String(me.id) && li.dataset.id) {
        const divider = document.createElement("li");
        divider.className = "new-divider";
        divider.setAttribute("role", "separator");
        divider.textContent = "New messages";
        el.list.insertBefore(divider, li);
        dividerPlaced = true;
      }
      const continued = previous && previous.dataset.day === day && authorOf(previous) === authorOf(li) &&
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
    el.typing.textContent = names.length === 0 ? "" :
      names.length === 1 ? `${names[0]} is typing…` :
      names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : "Several people are typing…";
  }
  setInterval(renderTyping, 1000);

  function nearBottom() {
    return el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight < 80;
  }

  function scrollToBottom() {
    el.scroller.scrollTop = el.scroller.scrollHeight;
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
    li.querySelector("time").textContent = "sending…";
    el.list.appendChild(li);
    return li;
  }

  function markPending(p, note) {
    p.li.classList.remove("failed");
    p.li.querySelector("time").textContent = note || "sending…";
  }

  function markFailed(clientId, p, why) {
    p.li.classList.add("failed");
    const time = p.li.querySelector("time");
    time.textContent = "not sent";
    let row = p.li.querySelector(".failure");
    if (!row) {
      row = document.createElement("p");
      row.className = "failure";
      const reason = document.createElement("span");
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "link";
      retry.textContent = "Edit";
      retry.addEventListener("click", () => {
        // The refused text goes back into the composer to fix and send again.
        pending.delete(clientId);
        p.li.remove();
        el.draft.value = p.text;
        el.draft.focus();
        autosize();
      });
      row.append(reason, " ", retry);
      p.li.querySelector(".bubble").appendChild(row);
    }
    row.firstChild.textContent = why;
    showComposerError(why);
  }

  function transmit(clientId, p) {
    markPending(p);
    p.sent = sendFrame({ type: "send", room, text: p.text, client_id: clientId });
  }

  function submit() {
    const text = el.draft.value.trim();
    if (!text) return;
    if (Array.from(text).length > maxChars) {
      showComposerError(`A message has at most ${maxChars} characters.`);
      return;
    }
    hideComposerError();
    const clientId = newClientId();
    const p = { text, li: renderPending(text), sent: false };
    pending.set(clientId, p);
    transmit(clientId, p); // if offline, it goes on the next join
    el.draft.value = "";
    autosize();
    scrollToBottom();
  }

  function showComposerError(text) {
    el.error.textContent = text;
    el.error.hidden = false;
  }

  function hideComposerError() {
    el.error.hidden = true;
    el.error.textContent = "";
  }

  function autosize() {
    el.draft.style.height = "auto";
    el.draft.style.height = Math.min(el.draft.scrollHeight, 160) + "px";
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
    if (document.hidden || !joined || lastId <= readSent) return;
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
    if (!el.error.hidden && el.draft.value.length <= maxChars) hideComposerError();
    const now = Date.now();
    if (el.draft.value.trim() && now - lastTypingSent > 2500) {
      lastTypingSent = now;
      sendFrame({ type: "typing", room });
    }
  });
  el.scroller.addEventListener("scroll", () => {
    if (el.scroller.scrollTop < 120) loadOlder();
  });
  el.membersToggle.addEventListener("click", () => {
    const open = el.membersPanel.classList.toggle("open");
    el.membersToggle.setAttribute("aria-expanded", String(open));
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      unseenWhileHidden = 0;
      document.title = baseTitle;
      markRead();
    }
  });
  window.addEventListener("online", () => { if (!socket) { attempt = 0; connect(); } });

  connect();
  el.draft.focus();
})();
