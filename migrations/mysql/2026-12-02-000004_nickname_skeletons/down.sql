DROP INDEX users_nickname_skeleton ON users;
ALTER TABLE users DROP COLUMN nickname_skeleton;
