-- Identifiers (phone, nickname, room name, client_id) use a binary collation so that
-- uniqueness is exact and matches SQLite; text uses utf8mb4 so emoji round-trip.
CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    phone         VARCHAR(32)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    nickname      VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at    DATETIME(3)  NOT NULL,
    UNIQUE KEY users_phone (phone),
    UNIQUE KEY users_nickname (nickname)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE rooms (
    id              BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name            VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    kind            VARCHAR(16) NOT NULL DEFAULT 'public',
    created_by      BIGINT      NULL,
    created_at      DATETIME(3) NOT NULL,
    last_message_id BIGINT      NOT NULL DEFAULT 0,
    UNIQUE KEY rooms_name (name),
    CONSTRAINT rooms_kind CHECK (kind IN ('public', 'direct')),
    CONSTRAINT rooms_created_by FOREIGN KEY (created_by) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE room_members (
    room_id              BIGINT      NOT NULL,
    user_id              BIGINT      NOT NULL,
    joined_at            DATETIME(3) NOT NULL,
    last_read_message_id BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id),
    KEY room_members_by_user (user_id),
    CONSTRAINT room_members_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    CONSTRAINT room_members_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE messages (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    room_id    BIGINT      NOT NULL,
    user_id    BIGINT      NOT NULL,
    body       TEXT        CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    client_id  VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_at DATETIME(3) NOT NULL,
    UNIQUE KEY messages_idempotency (user_id, client_id),
    KEY messages_by_room (room_id, id),
    CONSTRAINT messages_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    CONSTRAINT messages_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE sessions (
    id         VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    state      TEXT         NOT NULL,
    expires_at DATETIME(3)  NOT NULL,
    KEY sessions_by_expiry (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO rooms (name, kind, created_by, created_at, last_message_id)
VALUES ('lobby', 'public', NULL, UTC_TIMESTAMP(3), 0);
