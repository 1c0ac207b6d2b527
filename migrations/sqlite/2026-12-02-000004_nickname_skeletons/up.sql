-- The UTS #39 confusable skeleton of each nickname: two nicknames that look the same
-- have the same skeleton, and only one of them may exist. Filled in for earlier
-- accounts when the server starts (NULL until then; NULLs do not collide).
ALTER TABLE users ADD COLUMN nickname_skeleton TEXT;
CREATE UNIQUE INDEX users_nickname_skeleton ON users (nickname_skeleton);
