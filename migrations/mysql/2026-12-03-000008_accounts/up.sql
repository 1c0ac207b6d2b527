-- Accounts: avatars (the picture in a table of its own, so that every node serves it;
-- users.avatar is its version, part of the URL), deleted accounts, and which login a
-- session is, so that a password change can end every session but the current one.
ALTER TABLE users
    ADD COLUMN avatar VARCHAR(32) NULL,
    ADD COLUMN deleted_at DATETIME(3) NULL;

CREATE TABLE avatars (
    user_id      BIGINT      NOT NULL PRIMARY KEY,
    version      VARCHAR(32) NOT NULL,
    content_type VARCHAR(32) NOT NULL,
    data         MEDIUMBLOB  NOT NULL,
    updated_at   DATETIME(3) NOT NULL,
    CONSTRAINT avatars_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

ALTER TABLE sessions ADD COLUMN login_id VARCHAR(64) NULL;
UPDATE sessions SET login_id = JSON_UNQUOTE(JSON_EXTRACT(JSON_UNQUOTE(JSON_EXTRACT(state, '$.sid')), '$'))
    WHERE JSON_VALID(state) AND JSON_EXTRACT(state, '$.sid') IS NOT NULL;
