//! The closed vocabulary and the tokenizer shared by training and the browser.
//!
//! Token ids are stable: special tokens first, then the words in the order of [`WORDS`].
//! Changing this list changes [`vocab_fingerprint`], which the dataset manifest and the
//! exported weights record, so stale data or weights are detected instead of misread.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Padding, start and end of a text, the separator between a question and its answer.
pub const SPECIAL: [&str; 4] = ["<pad>", "<bos>", "<eos>", "<ans>"];
pub const PAD: u16 = 0;
pub const BOS: u16 = 1;
pub const EOS: u16 = 2;
pub const ANS: u16 = 3;

/// Every word the world's language uses, grouped for reading. Punctuation is a word.
pub const WORDS: &[&str] = &[
    // punctuation
    ",",
    ".",
    "?",
    // articles, connectives, function words
    "a",
    "an",
    "the",
    "and",
    "then",
    "of",
    "to",
    "is",
    "are",
    "there",
    "if",
    "were",
    "would",
    "will",
    "does",
    "did",
    "what",
    "which",
    "how",
    "many",
    "made",
    "object",
    "objects",
    "or",
    "that",
    "at",
    "on",
    "from",
    "seen",
    "side",
    "above",
    "below",
    "left",
    "right",
    "top",
    "bottom",
    "end",
    "it",
    "out",
    // things
    "agent",
    "wall",
    "floor",
    "arena",
    "zone",
    "ball",
    "balls",
    "box",
    "boxes",
    // colours (objects, then zones)
    "red",
    "blue",
    "yellow",
    "purple",
    "cyan",
    "orange",
    "green",
    "pink",
    // sizes
    "small",
    "big",
    // properties
    "heavy",
    "heavier",
    "light",
    "slippery",
    "rough",
    "bouncy",
    "dull",
    // verbs
    "hits",
    "hit",
    "touch",
    "touches",
    "enters",
    "enter",
    "leaves",
    "leave",
    "falls",
    "fall",
    "lands",
    "stops",
    "move",
    "moves",
    "moving",
    "removed",
    "colour",
    "shape",
    "fastest",
    "collisions",
    "happens",
    "nothing",
    "anything",
    // answers
    "yes",
    "no",
    "neither",
    // numbers
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
];

/// Number words, 0 to 10.
pub const NUMBERS: [&str; 11] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];

/// Size of the vocabulary, special tokens included.
pub fn vocab_size() -> usize {
    SPECIAL.len() + WORDS.len()
}

fn index() -> &'static HashMap<&'static str, u16> {
    static INDEX: OnceLock<HashMap<&'static str, u16>> = OnceLock::new();
    INDEX.get_or_init(|| {
        SPECIAL
            .iter()
            .chain(WORDS)
            .enumerate()
            .map(|(i, w)| (*w, i as u16))
            .collect()
    })
}

/// The word of a token id, if the id is in range.
pub fn word(id: u16) -> Option<&'static str> {
    SPECIAL.iter().chain(WORDS).nth(id as usize).copied()
}

/// The id of a word, if it is in the vocabulary.
pub fn id(word: &str) -> Option<u16> {
    index().get(word).copied()
}

/// 64-bit FNV-1a over the vocabulary in order: changes whenever a word or an id changes.
pub fn vocab_fingerprint() -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in SPECIAL.iter().chain(WORDS) {
        for b in w.bytes().chain(std::iter::once(0)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Text that uses words outside the vocabulary: the first [`LISTED_UNKNOWN`] distinct ones,
/// and how many more distinct ones there were (so a pasted essay gets a short message).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", describe_unknown(.0, .1))]
pub struct UnknownWords(pub Vec<UnknownWord>, pub usize);

/// Unknown words named in a message; the rest are counted.
pub const LISTED_UNKNOWN: usize = 5;
/// Characters of an unknown word quoted in a message.
const QUOTED_CHARS: usize = 24;

#[derive(Debug, Clone, PartialEq)]
pub struct UnknownWord {
    pub word: String,
    /// The closest known word, when one is close enough to be a likely typo.
    pub suggestion: Option<&'static str>,
}

fn quoted(word: &str) -> String {
    match word.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("\"{}…\"", &word[..cut]),
        None => format!("\"{word}\""),
    }
}

fn describe_unknown(words: &[UnknownWord], more: &usize) -> String {
    let mut list: Vec<String> = words
        .iter()
        .map(|u| match u.suggestion {
            Some(s) => format!("{} (did you mean \"{s}\"?)", quoted(&u.word)),
            None => quoted(&u.word),
        })
        .collect();
    if *more > 0 {
        list.push(format!("and {more} more"));
    }
    let noun = if words.len() + more == 1 {
        "word"
    } else {
        "words"
    };
    format!(
        "unknown {noun} {}: the world's language has {} words, for example colours (red, blue, \
         yellow, purple, cyan, orange), shapes (ball, box) and sizes (small, big)",
        list.join(", "),
        WORDS.len()
    )
}

fn closest(word: &str) -> Option<&'static str> {
    // No known word is within two edits of a long one; skip the comparisons.
    if word.chars().count() > 16 {
        return None;
    }
    WORDS
        .iter()
        .filter(|w| w.len() > 1)
        .map(|w| (strsim::damerau_levenshtein(word, w), *w))
        .filter(|(d, w)| *d <= 2 && *d < w.len())
        .min()
        .map(|(_, w)| w)
}

/// Splits text into lower-case words, with `,`, `.` and `?` as words of their own.
pub fn split_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text.split_whitespace() {
        let mut word = String::new();
        for ch in chunk.chars() {
            if matches!(ch, ',' | '.' | '?') {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                out.push(ch.to_string());
            } else {
                word.extend(ch.to_lowercase());
            }
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

/// Token ids of `text` (no special tokens added). Every unknown word is reported at once,
/// each with a suggestion when one is close.
pub fn tokenize(text: &str) -> Result<Vec<u16>, UnknownWords> {
    let words = split_words(text);
    let mut ids = Vec::with_capacity(words.len());
    let mut unknown = Vec::new();
    let mut more = std::collections::HashSet::new();
    for w in &words {
        match id(w) {
            Some(i) => ids.push(i),
            None if unknown.iter().any(|u: &UnknownWord| &u.word == w) => {}
            None if unknown.len() < LISTED_UNKNOWN => unknown.push(UnknownWord {
                word: w.clone(),
                suggestion: closest(w),
            }),
            None => {
                more.insert(w.as_str());
            }
        }
    }
    if unknown.is_empty() {
        Ok(ids)
    } else {
        Err(UnknownWords(unknown, more.len()))
    }
}

/// Text of token ids: words joined by spaces, punctuation attached to the word before it.
/// Special tokens and out-of-range ids are skipped.
pub fn detokenize(ids: &[u16]) -> String {
    let mut s = String::new();
    for &i in ids {
        let Some(w) = word(i) else { continue };
        if SPECIAL.contains(&w) {
            continue;
        }
        if !s.is_empty() && !matches!(w, "," | "." | "?") {
            s.push(' ');
        }
        s.push_str(w);
    }
    s
}
