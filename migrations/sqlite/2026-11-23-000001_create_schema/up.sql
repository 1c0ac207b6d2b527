-- Timestamps are stored as text in UTC with milliseconds (Diesel's Timestamp on SQLite).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    phone         TEXT    NOT NULL UNIQUE,
    nickname      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE rooms (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL DEFAULT 'public' CHECK (kind IN ('public', 'direct')),
    created_by      BIGINT  REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    last_message_id BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE room_members (
    room_id              BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id              BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at            TIMESTAMP NOT NULL,
    last_read_message_id BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_by_user ON room_members (user_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX messages_idempotency ON messages (user_id, client_id);
CREATE INDEX messages_by_room ON messages (room_id, id);

-- Server-side sessions: the cookie carries only the (encrypted) key.
CREATE TABLE sessions (
    id         TEXT      NOT NULL PRIMARY KEY,
    state      TEXT      NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

INSERT INTO rooms (name, kind, created_by, created_at, last_message_id)
VALUES ('lobby', 'public', NULL, strftime('%Y-%m-%d %H:%M:%f', 'now'), 0);
