DROP TABLE moderation_actions;
DROP TABLE room_invites;
DROP TABLE room_sanctions;
ALTER TABLE sessions DROP KEY sessions_by_user, DROP COLUMN user_id;
ALTER TABLE users DROP COLUMN disabled_at, DROP COLUMN is_admin;
