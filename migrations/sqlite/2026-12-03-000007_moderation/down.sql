DROP TABLE moderation_actions;
DROP TABLE room_invites;
DROP TABLE room_sanctions;
DROP INDEX sessions_by_user;
ALTER TABLE sessions DROP COLUMN user_id;
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE users DROP COLUMN is_admin;
