DROP INDEX users_nickname_skeleton;
ALTER TABLE users DROP COLUMN nickname_skeleton;
