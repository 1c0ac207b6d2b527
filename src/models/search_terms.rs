//! One tokenizer for both backends' indexes. A message is indexed as a list of terms,
//! separated by spaces (as SQLite FTS5's unicode61 splits them):
//!
//! - a word (a run of letters and digits outside CJK scripts), lowercased, as
//!   `w0<word>`: whole words match, in any order;
//! - each Chinese, Japanese or Korean character as `c0<char>`, one term per character,
//!   so that a run of CJK text in a query is a phrase of consecutive terms: a substring
//!   of one character and up matches.
//!
//! The two-character prefixes make a word never collide with a character. SQLite keeps
//! the terms in FTS5; MySQL in posting lists of its own (`message_terms`: one row per
//! term and message, read newest first by the primary key), with the order of a CJK
//! run checked on the candidates ([`text_matches`]).

/// A word longer than this is cut (a posting key stays short).
const MAX_WORD_CHARS: usize = 60;

/// What a query asks for: every term must be in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryTerm {
    /// A whole word.
    Word(String),
    /// CJK characters that must appear one after the other.
    Phrase(Vec<char>),
}

/// Chinese (Han), Japanese (kana) and Korean (Hangul) characters: scripts written
/// without spaces between words, matched by substring.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF       // Hangul Jamo
        | 0x2E80..=0x2FDF     // CJK radicals
        | 0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3130..=0x318F     // Hangul compatibility Jamo
        | 0x31F0..=0x31FF     // Katakana phonetic extensions
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF66..=0xFF9F     // half-width Katakana
        | 0x20000..=0x3FFFF // CJK extensions B and on
    )
}

/// Words and CJK runs of a text, in order.
fn pieces(text: &str) -> Vec<QueryTerm> {
    let mut pieces = Vec::new();
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, pieces: &mut Vec<QueryTerm>| {
        if !word.is_empty() {
            let cut: String = word.chars().take(MAX_WORD_CHARS).collect();
            pieces.push(QueryTerm::Word(cut));
            word.clear();
        }
    };
    let flush_run = |run: &mut Vec<char>, pieces: &mut Vec<QueryTerm>| {
        if !run.is_empty() {
            pieces.push(QueryTerm::Phrase(std::mem::take(run)));
        }
    };
    for c in text.chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut pieces);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut pieces);
            word.extend(c.to_lowercase());
        } else {
            flush_word(&mut word, &mut pieces);
            flush_run(&mut run, &mut pieces);
        }
    }
    flush_word(&mut word, &mut pieces);
    flush_run(&mut run, &mut pieces);
    pieces
}

fn word_term(word: &str) -> String {
    format!("w0{word}")
}

fn char_term(c: char) -> String {
    format!("c0{c}")
}

/// What the index stores for a message's text.
pub fn document(text: &str) -> String {
    let mut terms: Vec<String> = Vec::new();
    for piece in pieces(text) {
        match piece {
            QueryTerm::Word(word) => terms.push(word_term(&word)),
            QueryTerm::Phrase(chars) => terms.extend(chars.into_iter().map(char_term)),
        }
    }
    terms.join(" ")
}

/// The terms of a query, each once; empty when it has no letter, digit or CJK
/// character (nothing can match).
pub fn query(q: &str) -> Vec<QueryTerm> {
    let mut terms: Vec<QueryTerm> = Vec::new();
    for piece in pieces(q) {
        if !terms.contains(&piece) {
            terms.push(piece);
        }
    }
    terms
}

/// The terms of a document (what [`document`] made), each once, in order: a message's
/// posting rows.
pub fn distinct_terms(document: &str) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    document.split(' ').filter(|t| !t.is_empty() && seen.insert(*t)).collect()
}

/// The distinct terms a query needs (MySQL's posting lists): each word, and each
/// character of a CJK run.
pub fn postings(terms: &[QueryTerm]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for term in terms {
        let more: Vec<String> = match term {
            QueryTerm::Word(word) => vec![word_term(word)],
            QueryTerm::Phrase(chars) => chars.iter().map(|c| char_term(*c)).collect(),
        };
        for key in more {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// Whether a text has every term of a query, its CJK runs as consecutive characters:
/// what a posting list cannot tell (it has no positions), checked on the candidates.
pub fn text_matches(text: &str, terms: &[QueryTerm]) -> bool {
    let document = document(text);
    let have: Vec<&str> = document.split(' ').collect();
    terms.iter().all(|term| match term {
        QueryTerm::Word(word) => have.contains(&word_term(word).as_str()),
        QueryTerm::Phrase(chars) => {
            let want: Vec<String> = chars.iter().map(|c| char_term(*c)).collect();
            have.windows(want.len()).any(|w| w.iter().zip(&want).all(|(a, b)| *a == b.as_str()))
        }
    })
}

/// The query in FTS5's syntax: each term a quoted string (a phrase for CJK), all of
/// them required.
pub fn fts5_match(terms: &[QueryTerm]) -> String {
    terms.iter().map(|t| format!("\"{}\"", term_text(t))).collect::<Vec<_>>().join(" AND ")
}

fn term_text(term: &QueryTerm) -> String {
    match term {
        QueryTerm::Word(word) => word_term(word),
        QueryTerm::Phrase(chars) => chars.iter().map(|c| char_term(*c)).collect::<Vec<_>>().join(" "),
    }
}

/// The words and CJK characters of a query, as they appear in text (for highlighting
/// what matched).
pub fn highlights(q: &str) -> Vec<String> {
    query(q)
        .into_iter()
        .map(|t| match t {
            QueryTerm::Word(word) => word,
            QueryTerm::Phrase(chars) => chars.into_iter().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_checked_for_whole_words_and_consecutive_characters() {
        assert!(text_matches("我们在东京见面, Hello there", &query("东京 hello")));
        assert!(!text_matches("京都和东部", &query("东京")), "both characters, not one after the other");
        assert!(!text_matches("hellos there", &query("hello")), "whole words only");
        assert!(text_matches("东京", &query("京")));
    }

    #[test]
    fn words_are_lowercased_and_prefixed() {
        assert_eq!(document("Hello, World! don't"), "w0hello w0world w0don w0t");
    }

    #[test]
    fn cjk_characters_are_terms_of_their_own() {
        assert_eq!(document("我们rust吧"), "c0我 c0们 w0rust c0吧");
        assert_eq!(document("東京タワー에서"), "c0東 c0京 c0タ c0ワ c0ー c0에 c0서");
    }

    #[test]
    fn a_query_keeps_cjk_runs_as_phrases_and_drops_repeats() {
        assert_eq!(query("rust 你好 Rust"), vec![QueryTerm::Word("rust".into()), QueryTerm::Phrase(vec!['你', '好'])]);
        assert!(query("?! ...").is_empty());
    }

    #[test]
    fn match_syntax_for_each_engine() {
        let terms = query("hello 世界");
        assert_eq!(fts5_match(&terms), "\"w0hello\" AND \"c0世 c0界\"");
        assert_eq!(postings(&query("世界 hello 界")), vec!["c0世", "c0界", "w0hello"]);
        assert_eq!(distinct_terms(&document("hello 世界 Hello 界")), vec!["w0hello", "c0世", "c0界"]);
    }

    #[test]
    fn long_words_are_cut() {
        let long = "a".repeat(100);
        assert_eq!(document(&long).chars().count(), 2 + MAX_WORD_CHARS);
    }
}
