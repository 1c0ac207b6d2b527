//! S8's history, "a year of use", written straight into the database the server will
//! open (the server stopped): users who can log in, public rooms with skewed traffic,
//! memberships with read markers, a million messages with their search index and
//! mentions, and the writer's pointers. The measuring users are members of 200 rooms
//! each, some read up, some far behind. `year` then uses it through the server.
//!
//! The seeder writes the search index itself (as S7's does) and marks the backfill
//! done, so that the server starts at once instead of indexing the history first.

use std::time::{Duration, Instant};

use chatroom::models::search_terms;
use chatroom::models::validate::nickname_skeleton;
use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, Rng, Zipf};
use crate::seed_sql::{timestamp, MessageRow, MessageWriter, SeedDb};

/// Every seeded user's password.
pub const PASSWORD: &str = "benchmark password";

/// Topics the room names are made of, so that directory searches find some and not all.
const TOPICS: [&str; 16] = [
    "rust", "music", "travel", "games", "books", "movies", "cooking", "football", "design", "photo", "science",
    "linux", "garden", "running", "anime", "jobs",
];

#[derive(clap::Args)]
pub struct SeedYearArgs {
    /// sqlite://<file> or mysql://<user>@127.0.0.1/<database> (loopback only).
    #[arg(long)]
    pub database_url: String,
    /// Messages to write (at most 10,000,000).
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: usize,
    /// Public rooms.
    #[arg(long, default_value_t = 1000)]
    pub rooms: usize,
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,
    /// Users who are members of `rooms_per_measurer` rooms each, and log in to measure.
    #[arg(long, default_value_t = 5)]
    pub measurers: usize,
    #[arg(long, default_value_t = 200)]
    pub rooms_per_measurer: usize,
    /// Users who join nothing until the join storm (the last ones).
    #[arg(long, default_value_t = 1000)]
    pub storm_users: usize,
    /// Rooms each other user is a member of (busy rooms more likely), who write there.
    #[arg(long, default_value_t = 10)]
    pub rooms_per_author: usize,
    #[arg(long, default_value_t = 23)]
    pub seed: u64,
    /// Where to write what `year` needs to know about the history.
    #[arg(long)]
    pub plan: std::path::PathBuf,
}

/// What `seed-year` tells `year`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct YearPlan {
    pub messages: usize,
    pub rooms: usize,
    pub users: usize,
    pub password: String,
    pub measurer_phones: Vec<String>,
    pub rooms_per_measurer: usize,
    /// Public rooms a room list shows (the seeded ones and `lobby`).
    pub public_rooms: usize,
    pub storm_phones: Vec<String>,
    pub storm_room: String,
    /// Rooms of the first measurer with enough history for the probes.
    pub probe_rooms: Vec<ProbeRoom>,
    pub directory: Vec<DirectoryQuery>,
    pub seed_seconds: f64,
    pub database_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeRoom {
    pub name: String,
    pub messages: usize,
    /// A `since` with exactly 100 messages after it.
    pub since_100_behind: i64,
    /// A `before` a tenth of the way into the room's history.
    pub deep_before: i64,
    /// Messages older than `deep_before` (the page holds at most 50 of them).
    pub older_than_deep: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectoryQuery {
    /// Empty: no `q` (every public room).
    pub q: String,
    /// Public rooms whose name contains it.
    pub matches: usize,
}

fn phone(i: usize) -> String {
    format!("+86136{i:08}")
}

fn nickname(i: usize) -> String {
    format!("s8-user-{i}")
}

/// How many messages behind the measurers' read markers are, room after room: most
/// rooms read up or a little behind, some far behind (past the count's cap of 999).
const BEHIND: [usize; 8] = [0, 0, 2, 10, 40, 150, 600, 5000];

pub fn seed(args: &SeedYearArgs) -> Result<YearPlan, String> {
    let (rooms, users) = (args.rooms, args.users);
    let measurers = args.measurers.clamp(1, users);
    let storm = args.storm_users.min(users - measurers);
    let authors = users - measurers - storm;
    if authors == 0 {
        return Err("no users left to write the messages: more --users".into());
    }
    let per_measurer = args.rooms_per_measurer.min(rooms);
    let mut db = SeedDb::open(&args.database_url)?;
    let started = Instant::now();
    let (user_base, room_base, id_base) = db.first_free_ids()?;
    let now = timestamp(0);
    // One hash for everybody, at bcrypt's lowest cost: logging in is set-up here, not
    // what is measured, and a thousand logins at cost 10 would take a minute of server CPU.
    let hash = bcrypt::hash(PASSWORD, 4).map_err(|e| e.to_string())?;
    let user_id = |i: usize| user_base + i as i64;
    let room_id = |r: usize| room_base + r as i64;
    let room_names: Vec<String> = (0..rooms).map(|r| format!("{}-{r}", TOPICS[r % TOPICS.len()])).collect();

    db.begin()?;
    let rows: Vec<String> = (0..users)
        .map(|i| {
            let nick = nickname(i);
            format!(
                "({}, '{}', '{nick}', '{hash}', {}, {})",
                user_id(i),
                phone(i),
                db.quoted(&now),
                db.quoted(&nickname_skeleton(&nick))
            )
        })
        .collect();
    db.insert_rows("users (id, phone, nickname, password_hash, created_at, nickname_skeleton)", &rows, 1000)?;
    // Authors are users measurers..measurers+authors; each owns rooms in turn and is a
    // member of a few rooms, busy rooms more likely (the same law as their traffic).
    let author = |a: usize| measurers + a;
    let owner_of = |r: usize| author(r % authors);
    let rows: Vec<String> = (0..rooms)
        .map(|r| {
            format!(
                "({}, {}, 'public', {}, {}, 0, 0, '')",
                room_id(r),
                db.quoted(&room_names[r]),
                user_id(owner_of(r)),
                db.quoted(&now)
            )
        })
        .collect();
    db.insert_rows("rooms (id, name, kind, created_by, created_at, last_message_id, private, topic)", &rows, 1000)?;
    db.commit()?;
    let mut pools: Vec<Vec<usize>> = (0..rooms).map(|r| vec![owner_of(r)]).collect();
    let popularity = Zipf::new(rooms, 0.6);
    let mut rng = Rng::new(args.seed ^ 0x8EA5);
    for a in 0..authors {
        for _ in 0..args.rooms_per_author {
            let r = popularity.sample(&mut rng);
            if !pools[r].contains(&author(a)) {
                pools[r].push(author(a));
            }
        }
    }
    let measurer_rooms: Vec<Vec<usize>> =
        (0..measurers).map(|k| (0..per_measurer).map(|j| (j * rooms / per_measurer + k) % rooms).collect()).collect();
    let mut measurers_in: Vec<Vec<usize>> = vec![Vec::new(); rooms];
    for (k, list) in measurer_rooms.iter().enumerate() {
        for r in list {
            measurers_in[*r].push(k);
        }
    }

    // Messages in transactions of 50,000, statements of 1,000; one in a hundred in a
    // measurer's room mentions one of its measurers.
    let mut corpus = Corpus::new(args.seed, rooms, authors);
    let mut ids: Vec<Vec<i64>> = vec![Vec::new(); rooms];
    let mut writer = MessageWriter::new(1000, true);
    let mut mentions: Vec<String> = Vec::new();
    let mut last_report = Instant::now();
    db.begin()?;
    for n in 0..args.messages {
        let message = corpus.next_message();
        let (r, mut text) = (message.room, message.text);
        let id = id_base + n as i64;
        let pool = &pools[r];
        let writer_index = pool[message.author % pool.len()];
        if !measurers_in[r].is_empty() && rng.below(100) == 0 {
            let k = measurers_in[r][rng.below(measurers_in[r].len())];
            text.push_str(&format!(" @{}", nickname(k)));
            mentions.push(format!("({id}, {}, {})", user_id(k), room_id(r)));
        }
        ids[r].push(id);
        let document = search_terms::document(&text);
        let row = MessageRow {
            id,
            room_id: room_id(r),
            user_id: user_id(writer_index),
            text: &text,
            document: &document,
            created_at: &timestamp(n),
            client_id: &format!("s8-{id}"),
        };
        writer.push(&mut db, &row)?;
        let last = n + 1 == args.messages;
        if (n + 1) % 50_000 == 0 || last {
            writer.flush(&mut db)?;
            db.insert_rows("message_mentions (message_id, user_id, room_id)", &mentions, 1000)?;
            mentions.clear();
            db.commit()?;
            if !last {
                db.begin()?;
            }
            if last_report.elapsed() > Duration::from_secs(10) || last {
                let secs = started.elapsed().as_secs_f64();
                eprintln!("seeded {} messages in {secs:.0} s ({:.0}/s)", n + 1, (n + 1) as f64 / secs);
                last_report = Instant::now();
            }
        }
    }

    // Memberships: authors read up to the room's latest; measurers behind by BEHIND.
    let top = |r: usize| ids[r].last().copied().unwrap_or(0);
    let joined_at = db.quoted(&now);
    let member = |r: usize, u: usize, marker: i64, role: &str| {
        format!("({}, {}, {joined_at}, {marker}, '{role}')", room_id(r), user_id(u))
    };
    let mut rows: Vec<String> = Vec::new();
    for (r, pool) in pools.iter().enumerate() {
        for (i, u) in pool.iter().enumerate() {
            rows.push(member(r, *u, top(r), if i == 0 { "owner" } else { "member" }));
        }
    }
    for (k, list) in measurer_rooms.iter().enumerate() {
        for (j, r) in list.iter().enumerate() {
            let behind = BEHIND[(j + k) % BEHIND.len()];
            let count = ids[*r].len();
            let marker = if behind >= count { 0 } else { ids[*r][count - behind - 1] };
            rows.push(member(*r, k, marker, "member"));
        }
    }
    db.begin()?;
    db.insert_rows("room_members (room_id, user_id, joined_at, last_read_message_id, role)", &rows, 1000)?;
    db.commit()?;
    let room_tops: Vec<(i64, i64)> = (0..rooms).map(|r| (room_id(r), top(r))).collect();
    db.set_pointers(id_base, id_base + args.messages as i64 - 1, &room_tops, true)?;
    db.analyze()?;
    let seed_seconds = started.elapsed().as_secs_f64();
    eprintln!("seeded in {seed_seconds:.0} s");

    let mut probes: Vec<usize> = measurer_rooms[0].iter().copied().filter(|r| ids[*r].len() >= 200).collect();
    probes.sort_by_key(|r| std::cmp::Reverse(ids[*r].len()));
    let step = probes.len().div_ceil(16).max(1);
    let probe_rooms = probes
        .iter()
        .step_by(step)
        .map(|r| {
            let room = &ids[*r];
            let deep = (room.len() / 10).max(60);
            ProbeRoom {
                name: room_names[*r].clone(),
                messages: room.len(),
                since_100_behind: room[room.len() - 101],
                deep_before: room[deep],
                older_than_deep: deep,
            }
        })
        .collect();
    let contains =
        |q: &str| room_names.iter().chain(std::iter::once(&"lobby".to_owned())).filter(|n| n.contains(q)).count();
    let directory = ["", TOPICS[0], "in", "7", "zzz"]
        .iter()
        .map(|q| DirectoryQuery { q: (*q).to_owned(), matches: contains(q) })
        .collect();
    Ok(YearPlan {
        messages: args.messages,
        rooms,
        users,
        password: PASSWORD.to_owned(),
        measurer_phones: (0..measurers).map(phone).collect(),
        rooms_per_measurer: per_measurer,
        public_rooms: rooms + 1,
        storm_phones: (users - storm..users).map(phone).collect(),
        storm_room: room_names[0].clone(),
        probe_rooms,
        directory,
        seed_seconds,
        database_bytes: db.database_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_distinct_chinese_mobile_numbers() {
        // +86 136 and eight digits: a mobile number for every user up to ten million.
        assert_eq!(phone(0), "+8613600000000");
        assert_eq!(phone(9_999_999), "+8613609999999");
        assert_ne!(phone(12), phone(120));
    }
}
