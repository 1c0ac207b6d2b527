-- Private rooms (seen only by their members), a topic, and a role per membership. A
-- room's owner is its creator (`created_by`; `lobby` has none); rooms created before
-- get their creator as owner, a member from now on.
ALTER TABLE rooms
    ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN topic VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '';
ALTER TABLE room_members
    ADD COLUMN role VARCHAR(16) NOT NULL DEFAULT 'member',
    ADD CONSTRAINT room_members_role CHECK (role IN ('owner', 'moderator', 'member'));
INSERT IGNORE INTO room_members (room_id, user_id, joined_at, last_read_message_id)
    SELECT id, created_by, created_at, last_message_id FROM rooms
    WHERE kind = 'public' AND created_by IS NOT NULL;
UPDATE room_members JOIN rooms ON rooms.id = room_members.room_id
    SET room_members.role = 'owner'
    WHERE rooms.kind = 'public' AND rooms.created_by = room_members.user_id;
