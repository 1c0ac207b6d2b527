// The chat page: one WebSocket, one room. No framework, no build step: ES modules,
// this one the controller that says what each frame and each action does,
// chat-connection.js for the socket and its reconnection, chat-sending.js (over
// chat-outbox.js) for what was typed and not yet stored, chat-actions.js for replies,
// edits, deletes and reactions, chat-view.js (with chat-message-list.js and
// chat-composer.js) for what is on screen, chat-format.js for its words and layout,
// chat-standing.js for what we are in the room (a role, a mute, being removed),
// chat-room-menu.js for the owner's and moderators' menu, chat-mention-picker.js for
// the composer's @ suggestions and notifications.js for the system notifications.
//
// Opened at a message (`?at=<id>`, from search or a notification), the page first
// loads the history around it (a page before it, one after), shows it highlighted,
// and joins with `since` = the newest id of that window, so that what follows comes
// with no gap. When more came since than a join replays (`limited`), the window stays
// as it is, "detached": the latest messages are kept aside, newer pages load as the
// reader scrolls down until they meet, and the jump button goes straight to the latest.
//
// Promises it keeps: a message shows as pending until the server acknowledges it
// (stored), and goes again with the same client_id after a drop or a refusal that may
// pass (rate limit, storage unavailable), so it is never lost nor doubled; a refusal
// that will not pass (too long, not allowed) puts the text back in the composer with
// the reason; after a dropped connection it reconnects with backoff and rejoins with
// `since` = the highest id or seq seen; every message is shown once (de-duplicated by
// id), in its latest state (an `update` redraws it in place); text goes in with
// textContent, never as HTML.
import { MessageActions } from "./chat-actions.js";
import { Connection } from "./chat-connection.js";
import { cursorAfter, isNewer } from "./chat-lifecycle.js";
import { RoomPeople } from "./chat-mention-picker.js";
import { notificationContent, notify, permission, setUpOffer, shouldNotify } from "./notifications.js";
import { messageUrl } from "./search-format.js";
import { newClientId, Sender } from "./chat-sending.js";
import { ChatView } from "./chat-view.js";
import { capitalize, newMessagesText } from "./chat-format.js";
import { localizeTimes, localWhen } from "./chat-room-format.js";
import { RoomMenu } from "./chat-room-menu.js";
import { Standing } from "./chat-standing.js";

// The "Back online" status goes back to "Online" after this long.
const BACK_ONLINE_MS = 3000;

function main() {
  const root = document.getElementById("chat");
  if (!root) return;
  const room = root.dataset.room;
  const me = { id: Number(root.dataset.meId), nickname: root.dataset.meNickname };
  const pageSize = Number(root.dataset.page) || 50;
  const lastRead = Number(root.dataset.lastRead) || 0;
  const direct = root.dataset.kind === "direct";
  // The message the page was opened at, if any.
  const target = Number(new URLSearchParams(location.search).get("at")) || 0;

  // Where the conversation with the server stands; what is on screen is the view's,
  // what waits to be stored is the sender's.
  const session = {
    joined: false,
    everJoined: false,
    hasOlder: true, // older history than the oldest message shown
    loadingOlder: false,
    readSent: lastRead, // the id last reported read
    cursor: 0, // the highest id or seq seen live: the `since` of the next join
    around: false, // the page opened at a message, with the history around it
    detached: false, // the list ends before the latest messages (see above)
    newer: new Map(), // while detached: the latest messages, by id, not shown yet
    loadingNewer: false,
  };
  const people = new RoomPeople(room);
  const view = new ChatView(
    { me, maxChars: Number(root.dataset.maxChars) || 4000, lastRead, people },
    {
      onSend: () => {
        // What we write goes at the end of the conversation: there first.
        if (session.detached && !view.composer.isEmpty()) jumpToLatest();
        sender.submit();
      },
      onJump: () => jumpToLatest(),
      onDraftInput: () => sender.typed(),
      onScroll: scrolled,
      onSeen: seen,
      onEditLast: () => actions.editLast(),
      list: {
        onMenu: (id, button) => actions.openMenu(id, button),
        onReact: (id, emoji, on) => actions.react(id, emoji, on),
        onQuote: (id) => actions.jumpTo(id),
        original: (id) => actions.original(id),
        memberName: (id) => people.nameOf(id),
        unknownNames: () => learnNames(),
      },
    },
  );
  const { list, composer } = view;
  people.online = view.online;
  const actions = new MessageActions({
    room, me, view, send: sendFrame, newClientId, addOlder,
    moderates: () => standing.moderates, muted: () => !!standing.mutedUntil, removed: () => standing.removed,
  });
  const menu = new RoomMenu({
    room, me, ui: window.ChatUI, powers: () => standing.powers(), onTopic: (topic) => view.setTopic(topic),
  });
  const sender = new Sender({ room, view, actions, send: sendFrame, joined: () => session.joined });

  // ---- connection ----
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const connection = new Connection(`${scheme}://${location.host}/ws`, {
    onConnecting(attempt) {
      view.showConnecting(attempt);
    },
    onOpen() {
      const join = { type: "join", room };
      if (session.cursor > 0) join.since = session.cursor;
      connection.send(join);
    },
    onFrame: handle,
    onClose() {
      session.joined = false;
      sender.connectionLost();
    },
    onLoggedOut() {
      location.assign("/login");
    },
    onRetry(delay, attempt) {
      view.showOffline(Date.now() + delay);
      if (attempt >= 2) checkSession();
    },
  });

  const standing = new Standing(root.dataset, { me, view, menu, connection });

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
    return session.joined && connection.send(frame);
  }

  // ---- frames ----
  function handle(frame) {
    switch (frame.type) {
      case "joined": return onJoined(frame);
      case "message": return onMessage(frame.message);
      case "update": return onUpdate(frame);
      case "history": return onHistory(frame);
      case "presence": return onPresence(frame);
      case "typing": return onTyping(frame);
      case "read": return onRead(frame);
      case "room": return onRoomChanged(frame);
      case "role": return frame.room === room && standing.roleChanged(frame);
      case "muted": return frame.room === room && standing.setMuted(frame.until);
      case "removed": return frame.room === room && standing.removedFrom(frame);
      case "user": return onUserChanged(frame.user);
      case "error": return onError(frame);
    }
  }

  function onJoined(frame) {
    session.joined = true;
    connection.established();
    view.showOnline(session.everJoined);
    if (session.everJoined) {
      setTimeout(() => { if (session.joined) view.setStatus("online", "Online"); }, BACK_ONLINE_MS);
    }
    const first = !session.everJoined;
    session.everJoined = true;
    standing.setMuted(frame.muted_until || null);
    view.setMembers(frame.members);
    const around = first && session.around;
    session.around = false;
    const stick = !session.detached && (first || list.nearBottom());
    // Too much was missed: the server sent its latest page, to start over from. Opened
    // at an older message, that page is kept aside and the history around it stays.
    if (frame.limited && (around || session.detached)) {
      session.newer.clear();
      detach();
    } else if (!first && frame.limited) {
      list.clear();
    }
    const missed = addMessages(frame.messages, first);
    // The latest page reached back into the window (a replay full of changes, not of
    // messages): nothing is missing between them.
    if (session.detached && frame.messages.some((m) => list.has(m.id))) attach();
    for (const message of frame.updates || []) updateMessage(message);
    for (const message of [...frame.messages, ...(frame.updates || [])]) see(message);
    list.refreshSeparators();
    if (missed > 0) view.announce(newMessagesText(missed));
    if (first && !around) {
      session.hasOlder = frame.messages.length >= pageSize || !!frame.limited;
      list.setHasOlder(session.hasOlder);
    } else if (frame.limited && !session.detached) {
      session.hasOlder = true;
    }
    // Opened at a message: it is in view already, highlighted.
    if (first && !around) list.showFirstUnread();
    else if (stick && !around) list.scrollToBottom();
    // Whatever was not acknowledged before the connection dropped goes again, with
    // its client_id, so the server stores it at most once; so do edits, deletes and
    // reactions not answered.
    sender.flush();
    actions.resend();
    markRead();
    fillScreen();
  }

  // The messages of a join; how many of them are new from others, after a rejoin.
  function addMessages(messages, first) {
    let missed = 0;
    for (const message of messages) {
      if (addMessage(message) && !first && message.user.id !== me.id) missed += 1;
    }
    return missed;
  }

  function onMessage(message) {
    if (message.room !== room) return;
    const mine = message.user.id === me.id;
    const stick = !session.detached && (list.nearBottom() || mine);
    see(message);
    if (!addMessage(message)) return;
    list.refreshSeparators();
    if (mine) {
      sender.gotThrough();
    } else {
      view.stoppedTyping(message.user.id);
      view.announce(`${message.user.nickname}: ${message.text}`);
      notifyOf(message);
    }
    if (stick) list.scrollToBottom();
    if (!mine && (document.hidden || !stick)) view.countUnseen();
    markRead();
  }

  // A message changed: its new state, in place, if it is shown.
  function onUpdate(frame) {
    if (frame.room !== room) return;
    see(frame.message);
    updateMessage(frame.message);
  }

  // A later state of a message, shown or kept aside.
  function updateMessage(message) {
    if (session.newer.has(message.id)) keepNewer(message);
    else actions.update(message);
  }

  // ---- notifications ----

  // A message that mentions us, or any in a direct room, while the page is hidden.
  function notifyOf(message) {
    const state = permission();
    if (!shouldNotify({ message, meId: me.id, direct, hidden: document.hidden, state })) return;
    notify(notificationContent(message, { direct, roomTitle: root.dataset.title }), () => openMessage(message.id));
  }

  // A notification's click: the message in view, highlighted.
  function openMessage(id) {
    if (session.newer.has(id)) jumpToLatest();
    if (list.has(id)) list.highlight(id);
    else location.assign(messageUrl(room, id));
  }

  // A message's state seen live (or in a join): the resume cursor moves past it. Not
  // from history pages, read apart from the live order.
  function see(message) {
    session.cursor = cursorAfter(session.cursor, message);
  }

  function onHistory(frame) {
    if (frame.room !== room) return;
    session.loadingOlder = false;
    list.showLoading(false);
    session.hasOlder = frame.has_more;
    list.setHasOlder(session.hasOlder);
    list.keepingPosition(() => {
      for (const message of frame.messages.slice().reverse()) addMessage(message);
      list.refreshSeparators();
    });
    fillScreen();
  }

  function onPresence(frame) {
    if (frame.room !== room) return;
    view.memberOnline(frame.user, frame.online);
    menu.memberOnline(frame.user.id, frame.online);
  }

  // Someone present (maybe us, on another device) has a new nickname or picture: their
  // messages, their place among who is online, and our own header show it.
  function onUserChanged(user) {
    if (!user || typeof user.id !== "number") return;
    people.userChanged(user);
    list.userChanged(user);
    view.userChanged(user);
    if (user.id === me.id) {
      me.nickname = user.nickname;
      window.ChatUI.showMe(user);
    }
  }

  // The room changed (its topic): everyone in it sees it at once.
  function onRoomChanged(frame) {
    if (!frame.room || frame.room.name !== room) return;
    view.setTopic(frame.room.topic || "");
    menu.topicChanged(frame.room.topic || "");
  }

  function onTyping(frame) {
    if (frame.room !== room || frame.user.id === me.id) return;
    view.someoneTyping(frame.user);
  }

  function onRead(frame) {
    if (frame.room !== room) return;
    list.readUpTo(frame.message_id);
    session.readSent = Math.max(session.readSent, frame.message_id);
  }

  function onError(error) {
    // Its times ("muted … until <RFC 3339>") in the reader's words.
    const frame = { ...error, message: localizeTimes(error.message || "", localWhen) };
    if (actions.error(frame) || sender.error(frame)) return;
    // The join refused: banned meanwhile, or the room is gone. No use trying again.
    if (!session.joined && (frame.code === "not_found" || frame.code === "forbidden")) {
      standing.shutOut(`${capitalize(frame.message)}.`, "Not in the room");
    } else if (frame.code === "not_found" || frame.code === "forbidden") {
      composer.showError(capitalize(frame.message), "fatal");
    }
  }

  // A stored message into the list, once (or, detached, kept aside when it is after
  // the list); false when it was there already (a later state of it is drawn in
  // place). Our own replaces its pending copy. The caller redraws the separators.
  function addMessage(message) {
    if (session.detached && !list.has(message.id) && message.id > list.newestId) return keepNewer(message);
    return showMessage(message);
  }

  function showMessage(message) {
    if (list.has(message.id)) {
      actions.update(message);
      return false;
    }
    if (message.user.id === me.id) sender.acknowledged(message);
    list.add(message);
    return true;
  }

  // Kept aside while detached: the latest state of a message after the list; true
  // when it was not kept before.
  function keepNewer(message) {
    const known = session.newer.get(message.id);
    if (known && !isNewer(known, message)) return false;
    session.newer.set(message.id, message);
    if (message.user.id === me.id) sender.acknowledged(message);
    return !known;
  }

  // ---- opened at a message ----

  async function page(query) {
    const response = await fetch(`/api/rooms/${encodeURIComponent(room)}/messages${query}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`history: ${response.status}`);
    return response.json();
  }

  // The history around the message the page was opened at: a page up to it and one
  // after it, the message in view and highlighted; false when it is not in this room
  // (or cannot be read now), and the page opens at the end as usual.
  async function loadAround(id) {
    let before, after;
    try {
      [before, after] = await Promise.all([
        page(`?before=${id + 1}&limit=${pageSize}`),
        page(`?after=${id}&limit=${pageSize}`),
      ]);
    } catch (_) {
      return false;
    }
    if (!before.messages.some((m) => m.id === id)) {
      view.announce("That message is not in this room any more.");
      return false;
    }
    for (const message of [...before.messages, ...after.messages]) showMessage(message);
    list.refreshSeparators();
    session.hasOlder = before.has_more;
    list.setHasOlder(before.has_more);
    session.around = true;
    // The join replays what came after the window (and what changed in it since).
    session.cursor = list.newestId;
    list.highlight(id);
    return true;
  }

  function detach() {
    session.detached = true;
    view.setDetached(true);
  }

  // The list has met the latest messages: those kept aside join it.
  function attach() {
    const kept = [...session.newer.values()].sort((a, b) => a.id - b.id);
    session.detached = false;
    session.newer.clear();
    view.setDetached(false);
    for (const message of kept) showMessage(message);
    list.refreshSeparators();
  }

  // The jump button (or a send) while detached: the latest messages in place of the
  // window, and older history above them as usual.
  function jumpToLatest() {
    if (!session.detached) return;
    list.clear();
    attach();
    session.hasOlder = true;
    list.setHasOlder(true);
    list.scrollToBottom();
    fillScreen();
  }

  // Scrolled to the end of a detached list: the next page after it, until it meets
  // the messages kept aside (or the end of the room).
  async function loadNewer() {
    if (!session.detached || session.loadingNewer || list.newestId === 0) return;
    session.loadingNewer = true;
    view.showLoadingNewer(true);
    let loaded = false;
    try {
      const body = await page(`?after=${list.newestId}&limit=${pageSize}`);
      if (session.detached) {
        for (const message of body.messages) showMessage(message);
        list.refreshSeparators();
        const oldestKept = Math.min(...session.newer.keys());
        if (!body.has_more || body.messages.some((m) => m.id >= oldestKept)) attach();
        loaded = true;
      }
    } catch (_) {
      // Offline: the next scroll tries again.
    }
    session.loadingNewer = false;
    view.showLoadingNewer(false);
    if (loaded) fillScreen();
  }

  // Messages mention people the page cannot name yet: the room's members, once.
  let namesAsked = false;
  function learnNames() {
    if (namesAsked) return;
    namesAsked = true;
    people.load().then(() => list.redrawMentions());
  }

  // ---- history and read markers ----
  function loadOlder() {
    if (!session.hasOlder || session.loadingOlder || !session.joined || list.oldestId === null) return;
    session.loadingOlder = true;
    list.showLoading(true);
    if (!sendFrame({ type: "history", room, before: list.oldestId, limit: pageSize })) {
      session.loadingOlder = false;
      list.showLoading(false);
    }
  }

  // A page of older history fetched to reach a replied-to message.
  function addOlder(messages, hasMore) {
    list.keepingPosition(() => {
      for (const message of messages) addMessage(message);
      list.refreshSeparators();
    });
    session.hasOlder = hasMore;
    list.setHasOlder(hasMore);
  }

  // Older messages until the list fills the screen (or history ends); detached, newer
  // ones while the end of the list is in view.
  function fillScreen() {
    if (list.wantsMore() && session.hasOlder) loadOlder();
    if (session.detached && list.nearBottom()) loadNewer();
  }

  function markRead() {
    if (document.hidden || !session.joined || list.newestId <= session.readSent || !list.nearBottom()) return;
    session.readSent = list.newestId;
    sendFrame({ type: "read", room, message_id: list.newestId });
  }

  function scrolled() {
    if (list.nearTop()) loadOlder();
    if (session.detached && list.nearBottom()) loadNewer();
    seen();
  }

  function seen() {
    view.seen();
    markRead();
  }

  // ---- page life ----
  document.addEventListener("visibilitychange", seen);
  window.addEventListener("online", () => connection.retryNow());
  // Leaving the page ends the connection at once, so the others see us go even when the
  // browser keeps the page for its Back button; coming back that way reconnects.
  window.addEventListener("pagehide", () => {
    connection.leave();
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted || standing.removed) return;
    connection.resume();
  });

  setUpOffer(document.getElementById("notify-offer"), () => composer.focus());
  composer.focus();
  // Opened at a message: its history first, then the join goes on from there.
  if (target > 0) loadAround(target).finally(() => connection.connect());
  else connection.connect();
}

main();
