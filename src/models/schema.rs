//! The tables, shared by both backends (the migrations keep their column types compatible).

diesel::table! {
    users (id) {
        id -> BigInt,
        phone -> Text,
        nickname -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        nickname_skeleton -> Nullable<Text>,
        is_admin -> Bool,
        disabled_at -> Nullable<Timestamp>,
        avatar -> Nullable<Text>,
        deleted_at -> Nullable<Timestamp>,
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
        user_id -> Nullable<BigInt>,
        login_id -> Nullable<Text>,
    }
}

diesel::table! {
    room_sanctions (room_id, user_id, kind) {
        room_id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        until -> Nullable<Timestamp>,
        reason -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    room_invites (id) {
        id -> BigInt,
        room_id -> BigInt,
        code_hash -> Text,
        nonce -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        uses_left -> Integer,
    }
}

diesel::table! {
    moderation_actions (id) {
        id -> BigInt,
        room_id -> BigInt,
        action -> Text,
        actor_id -> BigInt,
        target_id -> Nullable<BigInt>,
        reason -> Nullable<Text>,
        detail -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    avatars (user_id) {
        user_id -> BigInt,
        version -> Text,
        content_type -> Text,
        data -> Binary,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    message_mentions (message_id, user_id) {
        message_id -> BigInt,
        user_id -> BigInt,
        room_id -> BigInt,
    }
}

diesel::table! {
    search_backfill (id) {
        id -> Integer,
        done_id -> BigInt,
        through_id -> BigInt,
    }
}

diesel::joinable!(messages -> rooms (room_id));
diesel::joinable!(messages -> users (user_id));
diesel::joinable!(room_members -> rooms (room_id));
diesel::joinable!(room_members -> users (user_id));
diesel::joinable!(message_edits -> messages (message_id));
diesel::joinable!(reactions -> messages (message_id));
diesel::joinable!(message_mentions -> messages (message_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    rooms,
    room_members,
    messages,
    sessions,
    message_sequence,
    message_edits,
    reactions,
    room_sanctions,
    room_invites,
    moderation_actions,
    avatars,
    message_mentions,
    search_backfill
);

diesel::table! {
    message_sequence (id) {
        id -> Integer,
        last_message_id -> BigInt,
    }
}
