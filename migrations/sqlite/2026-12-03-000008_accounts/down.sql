ALTER TABLE sessions DROP COLUMN login_id;
DROP TABLE avatars;
ALTER TABLE users DROP COLUMN deleted_at;
ALTER TABLE users DROP COLUMN avatar;
