-- Private rooms (seen only by their members), a topic, and a role per membership. A
-- room's owner is its creator (`created_by`; `lobby` has none); rooms created before
-- get their creator as owner, a member from now on.
ALTER TABLE rooms ADD COLUMN private BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE room_members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'moderator', 'member'));
INSERT OR IGNORE INTO room_members (room_id, user_id, joined_at, last_read_message_id)
    SELECT id, created_by, created_at, last_message_id FROM rooms
    WHERE kind = 'public' AND created_by IS NOT NULL;
UPDATE room_members SET role = 'owner'
    WHERE EXISTS (SELECT 1 FROM rooms
                  WHERE rooms.id = room_members.room_id AND rooms.kind = 'public'
                    AND rooms.created_by = room_members.user_id);
