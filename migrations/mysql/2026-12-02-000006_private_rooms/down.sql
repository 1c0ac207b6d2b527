ALTER TABLE room_members DROP CONSTRAINT room_members_role, DROP COLUMN role;
ALTER TABLE rooms DROP COLUMN topic, DROP COLUMN private;
