//! The tables, shared by both backends (the migrations keep their column types compatible).

diesel::table! {
    users (id) {
        id -> BigInt,
        phone -> Text,
        nickname -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        nickname_skeleton -> Nullable<Text>,
    }
}

diesel::table! {
    rooms (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_message_id -> BigInt,
        private -> Bool,
        topic -> Text,
    }
}

diesel::table! {
    room_members (room_id, user_id) {
        room_id -> BigInt,
        user_id -> BigInt,
        joined_at -> Timestamp,
        last_read_message_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        room_id -> BigInt,
        user_id -> BigInt,
        body -> Text,
        client_id -> Text,
        created_at -> Timestamp,
        seq -> BigInt,
        reply_to -> Nullable<BigInt>,
        edited_at -> Nullable<Timestamp>,
        deleted -> Bool,
    }
}

diesel::table! {
    message_edits (id) {
        id -> BigInt,
        message_id -> BigInt,
        body -> Text,
        edited_at -> Timestamp,
    }
}

diesel::table! {
    reactions (id) {
        id -> BigInt,
        message_id -> BigInt,
        user_id -> BigInt,
        emoji -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        state -> Text,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(messages -> rooms (room_id));
diesel::joinable!(messages -> users (user_id));
diesel::joinable!(room_members -> rooms (room_id));
diesel::joinable!(room_members -> users (user_id));
diesel::joinable!(message_edits -> messages (message_id));
diesel::joinable!(reactions -> messages (message_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    rooms,
    room_members,
    messages,
    sessions,
    message_sequence,
    message_edits,
    reactions
);

diesel::table! {
    message_sequence (id) {
        id -> Integer,
        last_message_id -> BigInt,
    }
}
