//! Bounded fuzzing (proptest) of the address parser: whatever the query string (hostile text,
//! huge or negative numbers, unknown keys, broken escapes), the page state is within every
//! control's range, each notice is short plain text naming its key, and the address the page
//! then writes reads back to the same state with no notice.
#![cfg(not(target_arch = "wasm32"))]

use app::url_state::{PageState, HIDEABLE, HORIZONS, MAX_TEMPERATURE, RESYNCS, ROLLOUTS, SPEEDS};
use proptest::prelude::*;

const KEYS: [&str; 13] = [
    "backend",
    "seed",
    "prompt",
    "speed",
    "paused",
    "temperature",
    "resync",
    "demo",
    "rollouts",
    "horizon",
    "hide",
    "",
    "unknown",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        Just("1e999".to_string()),
        Just("NaN".to_string()),
        Just("-0".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        Just("%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E".to_string()),
        Just("%E0%A4%A".to_string()),
        proptest::sample::subsequence(HIDEABLE.to_vec(), 0..4).prop_map(|h| h.join(",")),
        Just("two red balls".to_string()),
        Just("webgpu".to_string()),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let pair = (proptest::sample::select(KEYS.to_vec()), value());
    proptest::collection::vec(pair, 0..8).prop_map(|pairs| {
        let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("?{}", body.join("&"))
    })
}

fn in_range(s: &PageState) -> Result<(), TestCaseError> {
    prop_assert!(SPEEDS.contains(&s.speed), "speed {}", s.speed);
    prop_assert!(
        (0.0..=MAX_TEMPERATURE).contains(&s.temperature),
        "temperature {}",
        s.temperature
    );
    prop_assert!(RESYNCS.contains(&s.resync), "resync {}", s.resync);
    prop_assert!(ROLLOUTS.contains(&s.rollouts), "rollouts {}", s.rollouts);
    prop_assert!(HORIZONS.contains(&s.horizon), "horizon {}", s.horizon);
    prop_assert!(s.hide.iter().all(|h| HIDEABLE.contains(h)));
    if let Some(prompt) = &s.prompt {
        prop_assert!(
            app::prompt::scene_from_prompt(prompt, s.seed).is_ok(),
            "prompt {prompt:?} kept"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_address_gives_a_state_in_range_and_plain_notices(q in query()) {
        let (state, notices) = PageState::from_query(&q);
        in_range(&state)?;
        for n in &notices {
            prop_assert!(KEYS.contains(&n.key.as_str()) || n.key.len() <= 40, "key {:?}", n.key);
            prop_assert!(n.message.len() < 400, "notice of {} bytes", n.message.len());
        }
        let again = state.to_query();
        let (read, notices) = PageState::from_query(&again);
        prop_assert_eq!(&read, &state, "{} read back differently", again);
        prop_assert!(notices.is_empty(), "{again} gave notices {notices:?}");
    }

    #[test]
    fn arbitrary_strings_never_panic(q in "\\PC{0,300}") {
        let (state, _) = PageState::from_query(&q);
        in_range(&state)?;
    }
}

#[test]
fn absurd_sizes_fall_back_to_the_nearest_allowed_with_a_notice() {
    let (s, notices) =
        PageState::from_query("?rollouts=1000000000&horizon=1000000&temperature=-3&speed=-1");
    assert_eq!(s.rollouts, *ROLLOUTS.last().unwrap());
    assert_eq!(s.horizon, *HORIZONS.end());
    assert_eq!(s.temperature, app::url_state::DEFAULT_TEMPERATURE);
    let keys: Vec<&str> = notices.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(
        keys,
        ["rollouts", "horizon", "temperature", "speed"],
        "{notices:?}"
    );
}
