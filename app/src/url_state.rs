//! The page's state as it lives in the address bar:
//! `?demo=plan&seed=42&prompt=a+red+ball+to+the+left+of+a+big+blue+box&speed=2&paused=1&temperature=0.5&resync=15&rollouts=256&horizon=12&hide=temperature,seed`.
//!
//! A link reproduces what its sender saw: the seed fixes the scene (or, with a prompt, how the
//! sentence is laid out), the speed and pause state how it runs. Reading never fails: a value that cannot be used falls back to its default and
//! leaves a [`UrlNotice`] naming the key, for the page to show.

use std::fmt;

use crate::prompt::scene_from_prompt;

/// Seed of the scene shown when the URL names none.
pub const DEFAULT_SEED: u64 = 1;

/// Speed multipliers the page offers, slowest first. A URL may only ask for one of these.
pub const SPEEDS: [f32; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];

/// The dream's sampling temperature when the URL names none, and the largest one offered.
pub const DEFAULT_TEMPERATURE: f32 = 0.2;
pub const MAX_TEMPERATURE: f32 = 1.5;
/// How often the dream may resync with reality, in frames; 0 never does.
pub const RESYNCS: [u32; 4] = [0, 5, 15, 30];

/// Candidates the planner imagines per iteration: the slider's stops, fewest first.
pub const ROLLOUTS: [u32; 9] = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
pub const DEFAULT_ROLLOUTS: u32 = 256;
/// Planning horizon in actions: the slider's range.
pub const HORIZONS: std::ops::RangeInclusive<u32> = 4..=24;
pub const DEFAULT_HORIZON: u32 = 12;

/// The demos, one page each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Demo {
    Dream,
    Ask,
    Plan,
    Explain,
}

impl Demo {
    pub const ALL: [Demo; 4] = [Demo::Dream, Demo::Ask, Demo::Plan, Demo::Explain];

    /// Its name in the address (`demo=ask`).
    pub fn key(self) -> &'static str {
        match self {
            Demo::Dream => "dream",
            Demo::Ask => "ask",
            Demo::Plan => "plan",
            Demo::Explain => "explain",
        }
    }

    /// Its tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Demo::Dream => "Dream",
            Demo::Ask => "Ask",
            Demo::Plan => "Plan",
            Demo::Explain => "Explain",
        }
    }

    fn from_key(key: &str) -> Option<Demo> {
        by_key(&Demo::ALL, Demo::key, key)
    }
}

/// Controls a lesson link can hide (`hide=temperature,seed`).
pub const HIDEABLE: [&str; 11] = [
    "tabs",
    "seed",
    "prompt",
    "transport",
    "temperature",
    "resync",
    "draw",
    "results",
    "rollouts",
    "horizon",
    "question",
];

/// Longest piece of a bad value quoted back in a notice, in characters.
const QUOTE_LIMIT: usize = 24;

/// Everything about the page a link carries.
#[derive(Clone, Debug, PartialEq)]
pub struct PageState {
    /// Seed of the procedural scene (`world::scene::Scene::generate`), or of the layout of the
    /// prompt's scene when there is one.
    pub seed: u64,
    /// A sentence the scene is made from ("two red balls"); `None` for the seed's own scene.
    /// Always one that [`scene_from_prompt`] accepts with `seed`.
    pub prompt: Option<String>,
    /// Simulated seconds per wall-clock second; one of [`SPEEDS`].
    pub speed: f32,
    /// Whether the simulation waits for the step button instead of running.
    pub paused: bool,
    /// The dream's sampling temperature, 0 to [`MAX_TEMPERATURE`] in steps of 0.1.
    pub temperature: f32,
    /// Frames between the dream's resyncs with reality, one of [`RESYNCS`] (0: never).
    pub resync: u32,
    /// Which demo the page shows.
    pub demo: Demo,
    /// Candidates the planner imagines per iteration, one of [`ROLLOUTS`].
    pub rollouts: u32,
    /// Actions the planner looks ahead, in [`HORIZONS`].
    pub horizon: u32,
    /// Where the model runs (`backend=auto|webgpu|cpu`): a hardware GPU when there is one
    /// (`auto`), any WebGPU adapter, software ones included (`webgpu`: to watch the WGSL
    /// kernels work on a machine without a GPU), or the CPU path.
    pub backend: Backend,
    /// Controls hidden by a lesson link, each one of [`HIDEABLE`], in the order given.
    pub hide: Vec<&'static str>,
}

impl PageState {
    /// Whether the control named `name` (one of [`HIDEABLE`]) is shown.
    pub fn shows(&self, name: &str) -> bool {
        !self.hide.contains(&name)
    }
}

impl Default for PageState {
    fn default() -> PageState {
        PageState {
            seed: DEFAULT_SEED,
            prompt: None,
            speed: 1.0,
            paused: false,
            temperature: DEFAULT_TEMPERATURE,
            resync: 0,
            demo: Demo::Dream,
            rollouts: DEFAULT_ROLLOUTS,
            horizon: DEFAULT_HORIZON,
            backend: Backend::Auto,
            hide: Vec::new(),
        }
    }
}

/// A query parameter that could not be used, and what was used instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlNotice {
    /// The parameter's name as written in the URL (`seed`, `prompt`, `speed`, `paused`).
    pub key: String,
    /// What was wrong and what the page does instead, for people.
    pub message: String,
}

impl fmt::Display for UrlNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl PageState {
    /// Reads a query string (with or without its leading `?`). Unknown keys are ignored, so
    /// links made by later versions of the page still open; when a key repeats, the last
    /// occurrence wins. A prompt that cannot be made into a scene is dropped, with a notice
    /// that quotes the reason, and the seed's own scene is shown.
    pub fn from_query(query: &str) -> (PageState, Vec<UrlNotice>) {
        let mut state = PageState::default();
        let mut notices = Vec::new();
        for (key, value) in parse_query(query) {
            let problem = match key.as_str() {
                "seed" => parse_seed(&value).map(|seed| state.seed = seed).err(),
                // Checked below, once the seed that lays it out is known.
                "prompt" => {
                    let text = value.trim();
                    state.prompt = (!text.is_empty()).then(|| text.to_string());
                    None
                }
                "speed" => match parse_speed(&value) {
                    Ok(speed) => {
                        state.speed = speed;
                        None
                    }
                    Err(SpeedProblem::NotANumber) => {
                        state.speed = PageState::default().speed;
                        Some(format!(
                            "\"{}\" is not a number; running at normal speed (1x)",
                            quote(&value)
                        ))
                    }
                    Err(SpeedProblem::NotOffered { nearest }) => {
                        state.speed = nearest;
                        Some(format!(
                            "{} is not one of the speeds {}; using {}x",
                            quote(&value),
                            speeds_list(),
                            speed_label(nearest)
                        ))
                    }
                },
                "temperature" => match value.trim().parse::<f32>() {
                    Ok(t) if t.is_finite() && (0.0..=MAX_TEMPERATURE).contains(&t) => {
                        state.temperature = (t * 10.0).round() / 10.0;
                        None
                    }
                    _ => Some(format!(
                        "\"{}\" is not a temperature from 0 to {MAX_TEMPERATURE}; using {DEFAULT_TEMPERATURE}",
                        quote(&value)
                    )),
                },
                "resync" => match value.trim().parse::<u32>() {
                    Ok(k) if RESYNCS.contains(&k) => {
                        state.resync = k;
                        None
                    }
                    _ => Some(format!(
                        "\"{}\" is not one of the resync intervals {RESYNCS:?} (frames; 0 never resyncs); dreaming freely",
                        quote(&value)
                    )),
                },
                "demo" => match Demo::from_key(&value) {
                    Some(demo) => {
                        state.demo = demo;
                        None
                    }
                    None => Some(format!(
                        "\"{}\" is not one of the demos (dream, ask, plan, explain); showing the Dream",
                        quote(&value)
                    )),
                },
                "rollouts" => match value.trim().parse::<u64>() {
                    Ok(n) => {
                        let nearest = nearest_rollouts(n);
                        state.rollouts = nearest;
                        (n != nearest as u64).then(|| {
                            format!(
                                "{} is not one of the planner's sizes {ROLLOUTS:?}; using {nearest}",
                                quote(&value)
                            )
                        })
                    }
                    Err(_) => Some(format!(
                        "\"{}\" is not a whole number of rollouts; using {DEFAULT_ROLLOUTS}",
                        quote(&value)
                    )),
                },
                "horizon" => match value.trim().parse::<u64>() {
                    Ok(h) => {
                        let clamped =
                            h.clamp(*HORIZONS.start() as u64, *HORIZONS.end() as u64) as u32;
                        state.horizon = clamped;
                        (h != clamped as u64).then(|| {
                            format!(
                                "a horizon of {} actions is outside {} to {}; using {clamped}",
                                quote(&value),
                                HORIZONS.start(),
                                HORIZONS.end()
                            )
                        })
                    }
                    Err(_) => Some(format!(
                        "\"{}\" is not a whole number of actions; using {DEFAULT_HORIZON}",
                        quote(&value)
                    )),
                },
                "backend" => match Backend::from_key(&value) {
                    Some(backend) => {
                        state.backend = backend;
                        None
                    }
                    None => Some(format!(
                        "\"{}\" is not one of auto, webgpu and cpu; using auto",
                        quote(&value)
                    )),
                },
                "hide" => {
                    let mut unknown = Vec::new();
                    state.hide.clear();
                    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        match HIDEABLE.iter().find(|h| h.eq_ignore_ascii_case(name)) {
                            Some(h) if !state.hide.contains(h) => state.hide.push(h),
                            Some(_) => {}
                            None => unknown.push(quote(name)),
                        }
                    }
                    (!unknown.is_empty()).then(|| {
                        format!(
                            "{} cannot be hidden (these can: {}); showing them",
                            unknown.join(", "),
                            HIDEABLE.join(", ")
                        )
                    })
                }
                "paused" => match parse_flag(&value) {
                    Some(paused) => {
                        state.paused = paused;
                        None
                    }
                    None => Some(format!(
                        "\"{}\" is not 1 or 0; the simulation starts running",
                        quote(&value)
                    )),
                },
                _ => None,
            };
            if let Some(message) = problem {
                let message = if key == "seed" {
                    format!("{message}; showing seed {}", state.seed)
                } else {
                    message
                };
                notices.push(UrlNotice { key, message });
            }
        }
        if let Some(text) = &state.prompt {
            if let Err(problem) = scene_from_prompt(text, state.seed) {
                notices.push(UrlNotice {
                    key: "prompt".into(),
                    message: format!("{problem}; showing the scene of seed {}", state.seed),
                });
                state.prompt = None;
            }
        }
        (state, notices)
    }

    /// The query string for this state, with its leading `?`. The seed is always written so
    /// a copied link names its scene; the prompt, speed and pause only when there are ones
    /// other than the default.
    pub fn to_query(&self) -> String {
        let mut query = String::from("?");
        if self.demo != Demo::Dream {
            query.push_str(&format!("demo={}&", self.demo.key()));
        }
        query.push_str(&format!("seed={}", self.seed));
        if let Some(prompt) = &self.prompt {
            query.push_str("&prompt=");
            query.push_str(&percent_encode(prompt));
        }
        if self.speed != PageState::default().speed {
            query.push_str(&format!("&speed={}", self.speed));
        }
        if self.paused {
            query.push_str("&paused=1");
        }
        if self.temperature != DEFAULT_TEMPERATURE {
            query.push_str(&format!("&temperature={}", self.temperature));
        }
        if self.resync != 0 {
            query.push_str(&format!("&resync={}", self.resync));
        }
        if self.rollouts != DEFAULT_ROLLOUTS {
            query.push_str(&format!("&rollouts={}", self.rollouts));
        }
        if self.horizon != DEFAULT_HORIZON {
            query.push_str(&format!("&horizon={}", self.horizon));
        }
        if self.backend != Backend::Auto {
            query.push_str(&format!("&backend={}", self.backend.key()));
        }
        if !self.hide.is_empty() {
            query.push_str(&format!("&hide={}", self.hide.join(",")));
        }
        query
    }
}

/// Where the model runs; the page maps it onto the runtime's `Prefer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A hardware GPU when there is one, else the CPU path.
    Auto,
    /// Any WebGPU adapter, software ones included.
    WebGpu,
    /// The CPU path.
    Cpu,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Auto, Backend::WebGpu, Backend::Cpu];

    /// Its name in the address (`backend=webgpu`).
    pub fn key(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::WebGpu => "webgpu",
            Backend::Cpu => "cpu",
        }
    }

    /// The backend a name in the address asks for.
    pub fn from_key(key: &str) -> Option<Backend> {
        by_key(&Backend::ALL, Backend::key, key)
    }
}

/// The one of `all` whose name in the address is `text` (any case, spaces around ignored).
fn by_key<T: Copy>(all: &[T], key: fn(T) -> &'static str, text: &str) -> Option<T> {
    all.iter()
        .copied()
        .find(|x| key(*x).eq_ignore_ascii_case(text.trim()))
}

/// The planner size nearest to `n` by ratio, so 10^9 becomes 4096 and 0 becomes 16.
pub fn nearest_rollouts(n: u64) -> u32 {
    let log = (n.max(1) as f64).log2();
    ROLLOUTS
        .iter()
        .copied()
        .min_by(|a, b| {
            ((*a as f64).log2() - log)
                .abs()
                .total_cmp(&((*b as f64).log2() - log).abs())
        })
        .unwrap_or(DEFAULT_ROLLOUTS)
}

/// Reads a seed as typed by a person or written in a URL: a whole number from 0 to
/// `u64::MAX`, surrounding spaces allowed. The error says what was wrong.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the seed is empty".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "\"{}\" is not a whole number from 0 to {}",
            quote(text),
            u64::MAX
        ));
    }
    text.parse().map_err(|_| {
        format!(
            "{} is larger than the largest seed, {}",
            quote(text),
            u64::MAX
        )
    })
}

enum SpeedProblem {
    NotANumber,
    NotOffered { nearest: f32 },
}

fn parse_speed(text: &str) -> Result<f32, SpeedProblem> {
    let text = text.trim().trim_end_matches(['x', 'X']);
    let speed: f32 = text.parse().map_err(|_| SpeedProblem::NotANumber)?;
    if !speed.is_finite() {
        return Err(SpeedProblem::NotANumber);
    }
    if let Some(&offered) = SPEEDS.iter().find(|&&s| s == speed) {
        return Ok(offered);
    }
    Err(SpeedProblem::NotOffered {
        nearest: nearest_speed(speed),
    })
}

/// The offered speed closest to `speed` by ratio (2.9 is nearer 4 than 2), so out-of-range
/// values land on the slowest or fastest one.
pub fn nearest_speed(speed: f32) -> f32 {
    let log = if speed > 0.0 {
        speed.log2()
    } else {
        f32::NEG_INFINITY
    };
    SPEEDS
        .iter()
        .copied()
        .min_by(|a, b| (a.log2() - log).abs().total_cmp(&(b.log2() - log).abs()))
        .unwrap_or(1.0)
}

/// How a speed reads on the page and in notices: `0.25`, `1`, `4`.
pub fn speed_label(speed: f32) -> String {
    format!("{speed}")
}

fn speeds_list() -> String {
    SPEEDS
        .iter()
        .map(|&s| speed_label(s))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// A bad value as quoted back to the reader: cut short, control characters dropped. The page
/// shows it as text, never as markup.
fn quote(value: &str) -> String {
    let clean: String = value.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > QUOTE_LIMIT {
        let cut: String = clean.chars().take(QUOTE_LIMIT).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

/// Splits `a=1&b=two%20words` into decoded pairs (`+` is a space, `%XX` a byte; invalid
/// escapes are kept as written and invalid UTF-8 is replaced).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .strip_prefix('?')
        .unwrap_or(query)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Escapes a value for a query string so [`parse_query`] reads it back unchanged: a space
/// becomes `+` and commas stay, so a sentence still reads in the address bar; every other byte
/// outside `A-Z a-z 0-9 - _ . ~` becomes `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, byte) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_query_gives_defaults_without_notices() {
        assert_eq!(PageState::from_query(""), (PageState::default(), vec![]));
        assert_eq!(PageState::from_query("?"), (PageState::default(), vec![]));
    }

    #[test]
    fn reads_every_key() {
        let (state, notices) = PageState::from_query("?seed=42&speed=0.25&paused=1");
        assert_eq!(
            state,
            PageState {
                seed: 42,
                prompt: None,
                speed: 0.25,
                paused: true,
                ..PageState::default()
            }
        );
        assert!(notices.is_empty(), "{notices:?}");
    }

    #[test]
    fn printing_then_reading_gives_the_same_state() {
        for seed in [0, 1, 7, 42, 123_456_789, u64::MAX] {
            for speed in SPEEDS {
                for paused in [false, true] {
                    let state = PageState {
                        seed,
                        prompt: None,
                        speed,
                        paused,
                        ..PageState::default()
                    };
                    let query = state.to_query();
                    assert_eq!(
                        PageState::from_query(&query),
                        (state.clone(), vec![]),
                        "{query}"
                    );
                }
            }
        }
    }

    #[test]
    fn printed_query_leaves_out_defaults_but_always_names_the_seed() {
        assert_eq!(
            PageState {
                seed: 9,
                prompt: None,
                speed: 1.0,
                paused: false,
                ..PageState::default()
            }
            .to_query(),
            "?seed=9"
        );
        assert_eq!(
            PageState {
                seed: 9,
                prompt: None,
                speed: 0.5,
                paused: true,
                ..PageState::default()
            }
            .to_query(),
            "?seed=9&speed=0.5&paused=1"
        );
    }

    #[test]
    fn bad_seed_falls_back_to_default_and_names_the_key() {
        for bad in ["abc", "-3", "1.5", "", "99999999999999999999999"] {
            let (state, notices) = PageState::from_query(&format!("seed={bad}&speed=2"));
            assert_eq!(state.seed, DEFAULT_SEED, "{bad}");
            assert_eq!(state.speed, 2.0, "a bad seed must not spoil the other keys");
            assert_eq!(notices.len(), 1, "{bad}");
            assert_eq!(notices[0].key, "seed");
            assert!(
                notices[0]
                    .message
                    .contains(&format!("showing seed {DEFAULT_SEED}")),
                "{}",
                notices[0]
            );
        }
    }

    #[test]
    fn speed_that_is_not_offered_snaps_to_the_nearest_offered_one() {
        let cases = [
            ("3", 4.0),
            ("100", 4.0),
            ("0.3", 0.25),
            ("0", 0.25),
            ("-2", 0.25),
            ("1.3", 1.0),
        ];
        for (text, expected) in cases {
            let (state, notices) = PageState::from_query(&format!("speed={text}"));
            assert_eq!(state.speed, expected, "speed={text}");
            assert_eq!(notices.len(), 1);
            assert_eq!(notices[0].key, "speed");
            assert!(notices[0]
                .message
                .contains(&format!("using {}x", speed_label(expected))));
        }
    }

    #[test]
    fn speed_that_is_not_a_number_runs_at_normal_speed() {
        for text in ["fast", "NaN", "inf", ""] {
            let (state, notices) = PageState::from_query(&format!("speed={text}"));
            assert_eq!(state.speed, 1.0, "speed={text}");
            assert_eq!(notices[0].key, "speed");
        }
    }

    #[test]
    fn speed_may_carry_a_trailing_x() {
        assert_eq!(PageState::from_query("speed=2x").0.speed, 2.0);
    }

    #[test]
    fn paused_accepts_common_spellings_and_flags_others() {
        for (text, paused) in [
            ("1", true),
            ("true", true),
            ("", true),
            ("0", false),
            ("FALSE", false),
        ] {
            let (state, notices) = PageState::from_query(&format!("paused={text}"));
            assert_eq!(state.paused, paused, "paused={text}");
            assert!(notices.is_empty());
        }
        let (state, notices) = PageState::from_query("paused=maybe");
        assert!(!state.paused);
        assert_eq!(notices[0].key, "paused");
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let (state, notices) = PageState::from_query("?seed=5&model=v2&utm_source=x");
        assert_eq!(state.seed, 5);
        assert!(notices.is_empty());
    }

    #[test]
    fn notices_quote_bad_values_short_and_without_control_characters() {
        let long = "a".repeat(200);
        let (_, notices) = PageState::from_query(&format!("seed={long}%0A"));
        let message = &notices[0].message;
        assert!(message.len() < 150, "{message}");
        assert!(!message.contains('\n'));
        assert!(message.contains('…'));
    }

    #[test]
    fn markup_in_values_is_kept_as_plain_text() {
        let (_, notices) = PageState::from_query("seed=%3Cb%3Ehi%3C%2Fb%3E");
        assert!(
            notices[0].message.contains("\"<b>hi</b>\""),
            "{}",
            notices[0].message
        );
    }

    #[test]
    fn query_pairs_are_percent_decoded() {
        assert_eq!(
            parse_query("?a=1&b=two+words&c=%41%42&d&e=%zz&f=%4&g=%+4"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "two words".into()),
                ("c".into(), "AB".into()),
                ("d".into(), "".into()),
                ("e".into(), "%zz".into()),
                ("f".into(), "%4".into()),
                ("g".into(), "% 4".into()),
            ]
        );
    }

    #[test]
    fn the_dream_settings_round_trip_and_bad_ones_fall_back_with_a_notice() {
        let (state, notices) = PageState::from_query("?seed=3&temperature=0.3&resync=15");
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!((state.temperature, state.resync), (0.3, 15));
        assert_eq!(state.to_query(), "?seed=3&temperature=0.3&resync=15");
        let (state, notices) = PageState::from_query("?temperature=9&resync=7");
        assert_eq!((state.temperature, state.resync), (DEFAULT_TEMPERATURE, 0));
        let keys: Vec<&str> = notices.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(keys, ["temperature", "resync"]);
        assert!(
            notices[0].message.contains("from 0 to 1.5"),
            "{}",
            notices[0]
        );
    }

    #[test]
    fn the_backend_round_trips_and_an_unknown_one_falls_back_to_auto() {
        let (state, notices) = PageState::from_query("?seed=2&backend=WebGPU");
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(state.backend, Backend::WebGpu);
        assert_eq!(state.to_query(), "?seed=2&backend=webgpu");
        let (state, notices) = PageState::from_query("?backend=cuda");
        assert_eq!(state.backend, Backend::Auto);
        assert_eq!(
            notices[0].to_string(),
            "backend: \"cuda\" is not one of auto, webgpu and cpu; using auto"
        );
        assert_eq!(
            PageState::from_query("?backend=auto").0.to_query(),
            "?seed=1"
        );
    }

    #[test]
    fn demo_plan_settings_and_hidden_controls_round_trip() {
        let (state, notices) = PageState::from_query(
            "?demo=plan&seed=9&rollouts=1024&horizon=20&hide=temperature,Seed,tabs",
        );
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(state.demo, Demo::Plan);
        assert_eq!((state.rollouts, state.horizon), (1024, 20));
        assert_eq!(state.hide, vec!["temperature", "seed", "tabs"]);
        assert!(!state.shows("seed") && state.shows("prompt"));
        let query = state.to_query();
        assert_eq!(
            query,
            "?demo=plan&seed=9&rollouts=1024&horizon=20&hide=temperature,seed,tabs"
        );
        assert_eq!(PageState::from_query(&query), (state, vec![]));
        // The Dream is the default page and is not written.
        assert_eq!(PageState::default().to_query(), "?seed=1");
    }

    #[test]
    fn absurd_plan_sizes_are_brought_into_range_with_a_notice() {
        let (state, notices) =
            PageState::from_query("?rollouts=1000000000&horizon=1000000&demo=nowhere");
        assert_eq!((state.rollouts, state.horizon), (4096, 24));
        assert_eq!(state.demo, Demo::Dream);
        let keys: Vec<&str> = notices.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(keys, ["rollouts", "horizon", "demo"]);
        assert!(notices[0].message.contains("using 4096"));
        let (state, notices) = PageState::from_query("?rollouts=-5&horizon=0");
        assert_eq!((state.rollouts, state.horizon), (DEFAULT_ROLLOUTS, 4));
        assert_eq!(notices.len(), 2);
        assert_eq!(nearest_rollouts(0), 16);
        assert_eq!(nearest_rollouts(300), 256);
        assert_eq!(nearest_rollouts(400), 512);
    }

    #[test]
    fn unknown_controls_in_hide_are_named_and_markup_stays_text() {
        let (state, notices) = PageState::from_query("?hide=seed,<script>x</script>,seed");
        assert_eq!(state.hide, vec!["seed"]);
        assert_eq!(notices.len(), 1);
        assert!(notices[0]
            .message
            .starts_with("<script>x</script> cannot be hidden"));
    }

    #[test]
    fn seeds_typed_by_people_are_trimmed() {
        assert_eq!(parse_seed(" 42 "), Ok(42));
        assert!(parse_seed("4 2").is_err());
        assert!(parse_seed("+4").is_err());
    }

    fn with_prompt(seed: u64, prompt: &str) -> PageState {
        PageState {
            seed,
            prompt: Some(prompt.into()),
            ..PageState::default()
        }
    }

    #[test]
    fn a_prompt_is_read_with_its_seed() {
        let (state, notices) =
            PageState::from_query("?seed=3&prompt=a+red+ball+to+the+left+of+a+big+blue+box");
        assert_eq!(
            state,
            with_prompt(3, "a red ball to the left of a big blue box")
        );
        assert!(notices.is_empty(), "{notices:?}");
    }

    #[test]
    fn printing_then_reading_a_prompt_gives_it_back_unchanged() {
        let prompts = [
            "two red balls",
            "seen from the side, two yellow boxes and a green zone on the right",
            "a red ball to the left of a big blue box.",
            "A  Red   Ball",
        ];
        for prompt in prompts {
            let state = PageState {
                speed: 2.0,
                paused: true,
                ..with_prompt(11, prompt)
            };
            let query = state.to_query();
            assert!(!query[1..].contains(' '), "{query}");
            assert_eq!(
                PageState::from_query(&query),
                (state.clone(), vec![]),
                "{query}"
            );
        }
        assert_eq!(
            with_prompt(3, "seen from the side, two yellow boxes").to_query(),
            "?seed=3&prompt=seen+from+the+side,+two+yellow+boxes"
        );
    }

    #[test]
    fn text_the_world_cannot_read_still_survives_the_address_bar_byte_for_byte() {
        for text in [
            "café, naïve & 50% = ½ + ünïcødé 🟥",
            "<script>alert('x')</script>",
            "a=b&seed=9#top?x",
        ] {
            assert_eq!(
                parse_query(&format!("?prompt={}", percent_encode(text))),
                vec![("prompt".to_string(), text.to_string())],
                "{text}"
            );
        }
        let encoded = percent_encode("<script>&");
        assert!(
            encoded
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '%'),
            "{encoded}"
        );
    }

    #[test]
    fn an_unreadable_prompt_falls_back_to_the_seed_with_the_reason() {
        let (state, notices) = PageState::from_query("?seed=4&prompt=a+red+dragon&speed=2");
        assert_eq!(state.prompt, None);
        assert_eq!((state.seed, state.speed), (4, 2.0));
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert_eq!(notices[0].key, "prompt");
        assert!(
            notices[0].message.contains("\"dragon\""),
            "{}",
            notices[0].message
        );
        assert!(
            notices[0].message.ends_with("showing the scene of seed 4"),
            "{}",
            notices[0].message
        );
    }

    #[test]
    fn markup_in_a_prompt_is_refused_and_quoted_as_plain_text() {
        let (state, notices) = PageState::from_query("?prompt=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
        assert_eq!(state.prompt, None);
        assert_eq!(notices[0].key, "prompt");
        assert!(
            notices[0].message.contains("script"),
            "{}",
            notices[0].message
        );
    }

    #[test]
    fn a_prompt_over_the_length_limit_is_dropped_with_a_notice() {
        let long = "two+red+balls+and+".repeat(20);
        let (state, notices) = PageState::from_query(&format!("?seed=2&prompt={long}"));
        assert_eq!(state.prompt, None);
        assert_eq!(notices[0].key, "prompt");
        assert!(
            notices[0].message.contains("at most 300"),
            "{}",
            notices[0].message
        );
    }

    #[test]
    fn an_empty_prompt_means_the_seeds_own_scene() {
        assert_eq!(
            PageState::from_query("?seed=6&prompt=+"),
            (
                PageState {
                    seed: 6,
                    ..PageState::default()
                },
                vec![]
            )
        );
    }

    #[test]
    fn nearest_speed_compares_ratios() {
        assert_eq!(nearest_speed(2.9), 4.0);
        assert_eq!(nearest_speed(2.7), 2.0);
        assert_eq!(nearest_speed(0.0), 0.25);
        assert_eq!(nearest_speed(1000.0), 4.0);
    }
}
