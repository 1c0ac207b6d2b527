-- Accounts: avatars (the picture in a table of its own, so that every node serves it;
-- users.avatar is its version, part of the URL), deleted accounts, and which login a
-- session is, so that a password change can end every session but the current one.
ALTER TABLE users ADD COLUMN avatar TEXT NULL;
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP NULL;

CREATE TABLE avatars (
    user_id      BIGINT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version      TEXT      NOT NULL,
    content_type TEXT      NOT NULL,
    data         BLOB      NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

ALTER TABLE sessions ADD COLUMN login_id TEXT NULL;
UPDATE sessions SET login_id = json_extract(json_extract(state, '$.sid'), '$')
    WHERE json_valid(state) AND json_extract(state, '$.sid') IS NOT NULL;
