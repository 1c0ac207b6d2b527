// Small helpers shared by every page: avatars and local times.
"use strict";
(function () {
  // A stable hue per name, so a person keeps their colour everywhere.
  function hue(name) {
    let h = 0;
    for (const ch of name || "") h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
  }

  function paintAvatar(el) {
    el.style.setProperty("--hue", hue(el.dataset.name));
  }

  // "Alice" -> "A", "Bob Li" -> "BL"; whole characters, so an emoji stays whole.
  function initials(name) {
    const words = (name || "").trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return "?";
    const first = (word) => Array.from(word)[0].toUpperCase();
    return words.length === 1 ? first(words[0]) : first(words[0]) + first(words[words.length - 1]);
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
  const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
  const dayYearFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  const shortDayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
    weekday: "long", day: "numeric", month: "long", hour: "numeric", minute: "2-digit",
  });

  function localTime(iso) {
    return timeFormat.format(new Date(iso));
  }

  // The local calendar day of a time, as a key.
  function dayKey(iso) {
    const d = new Date(iso);
    return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate();
  }

  function daysAgo(iso) {
    const d = new Date(iso);
    const midnight = (t) => new Date(t.getFullYear(), t.getMonth(), t.getDate()).getTime();
    return Math.round((midnight(new Date()) - midnight(d)) / 86400000);
  }

  function dayLabel(iso) {
    const ago = daysAgo(iso);
    if (ago === 0) return "Today";
    if (ago === 1) return "Yesterday";
    const d = new Date(iso);
    return d.getFullYear() === new Date().getFullYear() ? dayFormat.format(d) : dayYearFormat.format(d);
  }

  // A short "when" for lists: the time today, "Yesterday", else the date.
  function shortWhen(iso) {
    const ago = daysAgo(iso);
    if (ago === 0) return localTime(iso);
    if (ago === 1) return "Yesterday";
    return shortDayFormat.format(new Date(iso));
  }

  // Times in lists read short; one marked data-local-time (an end, say) reads whole.
  function localizeTimes(root) {
    for (const el of root.querySelectorAll("time[datetime]")) {
      const iso = el.getAttribute("datetime");
      el.textContent = el.hasAttribute("data-local-time") ? dateTimeFormat.format(new Date(iso)) : shortWhen(iso);
      el.title = new Date(iso).toLocaleString();
    }
  }

  // A person's avatar: their picture when they have one, else their initials on their
  // colour. Decorative: their name is always written beside it.
  function avatarFor(user, className) {
    let avatar;
    if (user && user.avatar_url) {
      avatar = document.createElement("img");
      avatar.src = user.avatar_url;
      avatar.alt = "";
      avatar.loading = "lazy";
      avatar.decoding = "async";
    } else {
      avatar = document.createElement("span");
      avatar.textContent = initials(user && user.nickname);
    }
    avatar.className = className;
    avatar.dataset.name = (user && user.nickname) || "";
    avatar.setAttribute("aria-hidden", "true");
    paintAvatar(avatar);
    return avatar;
  }

  // The top bar's "you": a new nickname or picture shows without a reload.
  function showMe(user) {
    const me = document.querySelector(".topbar .me");
    if (!me) return;
    me.title = "Logged in as " + user.nickname + ": settings";
    const name = me.querySelector(".me-name");
    if (name) name.textContent = user.nickname;
    const old = me.querySelector(".avatar");
    if (old) old.replaceWith(avatarFor(user, "avatar avatar-sm person"));
  }

  // Avatars of people (not rooms) show their initials.
  function paintAvatars(root) {
    for (const el of root.querySelectorAll(".avatar[data-name]")) {
      paintAvatar(el);
      if (el.classList.contains("person") && el.tagName !== "IMG") el.textContent = initials(el.dataset.name);
    }
  }

  window.ChatUI = { hue, paintAvatar, paintAvatars, avatarFor, showMe, initials, localTime, dayKey, dayLabel, shortWhen, localizeTimes };

  document.addEventListener("DOMContentLoaded", () => {
    paintAvatars(document);
    localizeTimes(document);
  });
})();
