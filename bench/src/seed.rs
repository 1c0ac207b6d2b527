//! S7's history, written straight into the database the server will open: users, rooms,
//! a million messages and their search index, with multi-row INSERTs in big
//! transactions. The schema is the server's own (its embedded migrations, run through
//! the `chatroom` library), and the index rows are made by the server's own tokenizer
//! (`chatroom::models::search_terms::document`), so the server finds exactly what it
//! would have indexed itself.
//!
//! Runs without the async runtime: the MySQL connection blocks on a runtime of its own.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chatroom::models::search_terms::{self, QueryTerm};
use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, Message};
use crate::seed_sql::{timestamp, MessageRow, MessageWriter, SeedDb};

pub struct SeedArgs<'a> {
    pub database_url: &'a str,
    pub messages: usize,
    pub rooms: usize,
    pub private_rooms: usize,
    pub users: usize,
    pub seed: u64,
    /// Write the index rows here (else leave the history for the server's start-up
    /// backfill: `search_backfill` from 0 to the last id).
    pub index: bool,
}

/// What `seed` tells `search`: the queries of each class and how many messages each
/// matches, counted from the corpus with the server's tokenizer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryPlan {
    pub messages: usize,
    pub rooms: usize,
    pub private_rooms: usize,
    pub users: usize,
    pub seed: u64,
    /// The busiest public room: the one `room=` searches name.
    pub scoped_room: String,
    pub scoped_room_messages: u64,
    pub english_vocabulary: usize,
    pub chinese_vocabulary: usize,
    pub chinese_characters: usize,
    pub seed_seconds: f64,
    pub index_seconds_included: bool,
    pub database_bytes: Option<u64>,
    pub classes: Vec<QueryClass>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryClass {
    pub class: String,
    pub queries: Vec<PlannedQuery>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedQuery {
    pub q: String,
    /// Messages matching in the whole corpus.
    pub matches: u64,
    /// In the rooms a searcher who joined nothing may read (the public ones).
    pub matches_readable: u64,
    /// In the scoped room.
    pub matches_in_room: u64,
}

/// Atoms the planned queries are made of, matched against a document's terms.
struct Matcher {
    words: HashMap<String, usize>,
    phrases: Vec<(Vec<String>, usize)>,
    atoms: usize,
}

impl Matcher {
    fn new() -> Matcher {
        Matcher { words: HashMap::new(), phrases: Vec::new(), atoms: 0 }
    }

    /// The atom mask of a query (the server's own parse of it).
    fn add_query(&mut self, q: &str) -> u64 {
        let mut mask = 0u64;
        for term in search_terms::query(q) {
            let index = match term {
                QueryTerm::Word(w) => *self.words.entry(format!("w0{w}")).or_insert_with(|| {
                    self.atoms += 1;
                    self.atoms - 1
                }),
                QueryTerm::Phrase(chars) => {
                    let terms: Vec<String> = chars.iter().map(|c| format!("c0{c}")).collect();
                    match self.phrases.iter().find(|(t, _)| *t == terms) {
                        Some((_, i)) => *i,
                        None => {
                            self.atoms += 1;
                            self.phrases.push((terms, self.atoms - 1));
                            self.atoms - 1
                        }
                    }
                }
            };
            assert!(index < 64, "at most 64 distinct terms in the plan");
            mask |= 1 << index;
        }
        mask
    }

    fn doc_mask(&self, terms: &[&str]) -> u64 {
        let mut mask = 0u64;
        for (i, t) in terms.iter().enumerate() {
            if let Some(a) = self.words.get(*t) {
                mask |= 1 << a;
            }
            for (phrase, a) in &self.phrases {
                if terms.len() - i >= phrase.len() && phrase.iter().zip(&terms[i..]).all(|(p, t)| p == t) {
                    mask |= 1 << a;
                }
            }
        }
        mask
    }
}

/// Document frequencies from the first pass.
#[derive(Default)]
struct Frequencies {
    words: HashMap<String, u64>,
    chars: HashMap<char, u64>,
    bigrams: HashMap<[char; 2], u64>,
}

impl Frequencies {
    fn add(&mut self, terms: &[&str]) {
        let mut words: Vec<&str> = Vec::new();
        let mut chars: Vec<char> = Vec::new();
        let mut bigrams: Vec<[char; 2]> = Vec::new();
        let cjk = |t: &str| t.strip_prefix("c0").and_then(|r| r.chars().next());
        for (i, t) in terms.iter().enumerate() {
            if let Some(w) = t.strip_prefix("w0") {
                words.push(w);
            } else if let Some(c) = cjk(t) {
                chars.push(c);
                if let Some(next) = terms.get(i + 1).and_then(|n| cjk(n)) {
                    bigrams.push([c, next]);
                }
            }
        }
        words.sort_unstable();
        words.dedup();
        chars.sort_unstable();
        chars.dedup();
        bigrams.sort_unstable();
        bigrams.dedup();
        for w in words {
            match self.words.get_mut(w) {
                Some(n) => *n += 1,
                None => {
                    self.words.insert(w.to_owned(), 1);
                }
            }
        }
        for c in chars {
            *self.chars.entry(c).or_default() += 1;
        }
        for b in bigrams {
            *self.bigrams.entry(b).or_default() += 1;
        }
    }
}

/// The `count` keys whose frequency is nearest `target` (ties by key, so the choice
/// is the same on every run).
fn nearest<K: Clone + Ord>(map: &HashMap<K, u64>, target: u64, count: usize) -> Vec<K> {
    let mut all: Vec<(u64, K)> = map.iter().map(|(k, n)| (n.abs_diff(target), k.clone())).collect();
    all.sort();
    all.into_iter().take(count).map(|(_, k)| k).collect()
}

fn plan_queries(f: &Frequencies, messages: usize) -> Vec<(String, Vec<String>)> {
    let per_million = |share: f64| (share * messages as f64).round() as u64;
    let words = |target, n| nearest(&f.words, target, n);
    let mut top_words: Vec<(u64, String)> = f.words.iter().map(|(w, n)| (*n, w.clone())).collect();
    top_words.sort_by(|a, b| b.cmp(a));
    let pairs = words(per_million(0.10), 8);
    let bigram =
        |target, n| -> Vec<String> { nearest(&f.bigrams, target, n).into_iter().map(|b| b.iter().collect()).collect() };
    vec![
        ("rare word".into(), words(50, 4)),
        ("common word".into(), words(per_million(0.02), 4)),
        ("most common word".into(), top_words.iter().take(1).map(|(_, w)| w.clone()).collect()),
        ("two words".into(), pairs.chunks(2).map(|p| p.join(" ")).collect()),
        ("Chinese 2 chars, common".into(), bigram(per_million(0.02), 4)),
        ("Chinese 2 chars, rare".into(), bigram(50, 4)),
        ("Chinese 1 char".into(), nearest(&f.chars, per_million(0.10), 4).into_iter().map(|c| c.to_string()).collect()),
    ]
}

pub fn seed(args: &SeedArgs) -> Result<QueryPlan, String> {
    let mut db = SeedDb::open(args.database_url)?;
    let started = Instant::now();
    let (user_base, room_base, id_base) = db.first_free_ids()?;
    let now = timestamp(0);

    // Users (they never log in: the hash is not a bcrypt hash) and rooms, the last
    // `private_rooms` of them private.
    db.begin()?;
    let users: Vec<String> = (0..args.users)
        .map(|i| {
            format!("({}, '+8613700{:06}', 'author-{i}', '!seeded', {})", user_base + i as i64, i, db.quoted(&now))
        })
        .collect();
    db.insert_rows("users (id, phone, nickname, password_hash, created_at)", &users, 500)?;
    let room_names: Vec<String> = (0..args.rooms).map(|i| format!("s7-room-{i}")).collect();
    let is_private = |i: usize| i >= args.rooms - args.private_rooms.min(args.rooms);
    let rooms: Vec<String> = room_names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "({}, {}, 'public', {}, {}, 0, {}, '')",
                room_base + i as i64,
                db.quoted(name),
                user_base + (i % args.users) as i64,
                db.quoted(&now),
                u8::from(is_private(i))
            )
        })
        .collect();
    db.insert_rows(
        "rooms (id, name, kind, created_by, created_at, last_message_id, private, topic)",
        &rooms,
        usize::MAX,
    )?;
    // Owners are members; so are the authors of a private room (the first 50 users).
    let mut members: Vec<String> = Vec::new();
    for i in 0..args.rooms {
        let owner = i % args.users;
        members.push(format!(
            "({}, {}, {}, 0, 'owner')",
            room_base + i as i64,
            user_base + owner as i64,
            db.quoted(&now)
        ));
        if is_private(i) {
            for u in (0..args.users.min(50)).filter(|u| *u != owner) {
                members.push(format!(
                    "({}, {}, {}, 0, 'member')",
                    room_base + i as i64,
                    user_base + u as i64,
                    db.quoted(&now)
                ));
            }
        }
    }
    db.insert_rows("room_members (room_id, user_id, joined_at, last_read_message_id, role)", &members, usize::MAX)?;
    db.commit()?;

    // Messages (and their index rows) in transactions of 50,000, statements of 1,000.
    let mut corpus = Corpus::new(args.seed, args.rooms, args.users);
    let private_authors = args.users.min(50);
    let mut freq = Frequencies::default();
    let mut room_tops: Vec<(i64, i64)> = (0..args.rooms).map(|i| (room_base + i as i64, 0)).collect();
    let mut room_counts: Vec<u64> = vec![0; args.rooms];
    let per_transaction = 50_000;
    let mut writer = MessageWriter::new(1000, args.index);
    let mut last_report = Instant::now();
    db.begin()?;
    for n in 0..args.messages {
        let Message { room, author, text } = corpus.next_message();
        // A private room's authors are its members; anyone writes in a public room.
        let author = if is_private(room) { author % private_authors } else { author };
        let id = id_base + n as i64;
        room_tops[room].1 = id;
        room_counts[room] += 1;
        let document = search_terms::document(&text);
        let terms: Vec<&str> = document.split(' ').filter(|t| !t.is_empty()).collect();
        freq.add(&terms);
        let row = MessageRow {
            id,
            room_id: room_base + room as i64,
            user_id: user_base + author as i64,
            text: &text,
            document: &document,
            created_at: &timestamp(n),
            client_id: &format!("s7-{id}"),
        };
        writer.push(&mut db, &row)?;
        let last = n + 1 == args.messages;
        if (n + 1) % per_transaction == 0 || last {
            writer.flush(&mut db)?;
            db.commit()?;
            if !last {
                db.begin()?;
            }
            if last_report.elapsed() > Duration::from_secs(10) || last {
                eprintln!(
                    "seeded {} messages in {:.0} s ({:.0}/s)",
                    n + 1,
                    started.elapsed().as_secs_f64(),
                    (n + 1) as f64 / started.elapsed().as_secs_f64()
                );
                last_report = Instant::now();
            }
        }
    }
    // The pointers the writer keeps, and the backfill marker.
    let last_id = id_base + args.messages as i64 - 1;
    db.set_pointers(id_base, last_id, &room_tops, args.index)?;
    db.analyze()?;
    let seed_seconds = started.elapsed().as_secs_f64();
    eprintln!("seeded in {seed_seconds:.0} s");
    let database_bytes = db.database_bytes();
    drop(db);

    // The queries, and a second pass over the same corpus to count their matches by scope.
    let classes = plan_queries(&freq, args.messages);
    drop(freq);
    let scoped = (0..args.rooms).filter(|i| !is_private(*i)).max_by_key(|i| (room_counts[*i], std::cmp::Reverse(*i)));
    let scoped = scoped.ok_or("no public room")?;
    let mut matcher = Matcher::new();
    let masks: Vec<Vec<u64>> =
        classes.iter().map(|(_, qs)| qs.iter().map(|q| matcher.add_query(q)).collect()).collect();
    let mut counts: Vec<Vec<[u64; 3]>> = masks.iter().map(|m| vec![[0; 3]; m.len()]).collect();
    let mut corpus = Corpus::new(args.seed, args.rooms, args.users);
    for _ in 0..args.messages {
        let Message { room, text, .. } = corpus.next_message();
        let document = search_terms::document(&text);
        let terms: Vec<&str> = document.split(' ').filter(|t| !t.is_empty()).collect();
        let doc = matcher.doc_mask(&terms);
        for (class, class_masks) in masks.iter().enumerate() {
            for (q, mask) in class_masks.iter().enumerate() {
                if doc & mask == *mask {
                    let c = &mut counts[class][q];
                    c[0] += 1;
                    c[1] += u64::from(!is_private(room));
                    c[2] += u64::from(room == scoped);
                }
            }
        }
    }
    let corpus = Corpus::new(args.seed, args.rooms, 1);
    Ok(QueryPlan {
        messages: args.messages,
        rooms: args.rooms,
        private_rooms: args.private_rooms,
        users: args.users,
        seed: args.seed,
        scoped_room: room_names[scoped].clone(),
        scoped_room_messages: room_counts[scoped],
        english_vocabulary: corpus.english_vocabulary(),
        chinese_vocabulary: corpus.chinese_vocabulary(),
        chinese_characters: corpus.chinese_characters(),
        seed_seconds,
        index_seconds_included: args.index,
        database_bytes,
        classes: classes
            .into_iter()
            .zip(counts)
            .map(|((class, qs), counts)| QueryClass {
                class,
                queries: qs
                    .into_iter()
                    .zip(counts)
                    .map(|(q, [matches, matches_readable, matches_in_room])| PlannedQuery {
                        q,
                        matches,
                        matches_readable,
                        matches_in_room,
                    })
                    .collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matcher_follows_the_servers_query_parse() {
        let mut m = Matcher::new();
        let two = m.add_query("Hello world");
        let phrase = m.add_query("我们");
        let doc = search_terms::document("hello, 我们的 World");
        let terms: Vec<&str> = doc.split(' ').collect();
        let mask = m.doc_mask(&terms);
        assert_eq!(mask & two, two);
        assert_eq!(mask & phrase, phrase);
        let doc = search_terms::document("我的们 hello");
        let terms: Vec<&str> = doc.split(' ').collect();
        assert_eq!(m.doc_mask(&terms) & phrase, 0);
        assert_ne!(m.doc_mask(&terms) & two, two);
    }
}
