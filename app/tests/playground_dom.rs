//! The playground in a real browser: mount it, press its buttons and keys, and check the
//! frame counter, the text and the pixels on its canvases.
//!
//! CHROMEDRIVER=/usr/bin/chromedriver \
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! cargo test --target wasm32-unknown-unknown -p app
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use app::url_state::PageState;
use app::Playground;
use gloo::timers::callback::Timeout;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{
    CanvasRenderingContext2d, Event, EventInit, HtmlCanvasElement, HtmlElement, HtmlInputElement,
    KeyboardEvent, KeyboardEventInit,
};

wasm_bindgen_test_configure!(run_in_browser);

/// Seed 7 is a top-down table with one object, away from the agent: nothing moves unless the
/// agent is driven, so any change in its picture comes from the agent.
const STILL_SCENE: u64 = 7;

fn paused_at(seed: u64) -> PageState {
    PageState {
        seed,
        prompt: None,
        speed: 1.0,
        paused: true,
        ..PageState::default()
    }
}

/// A playground mounted into its own element; unmounted and removed when dropped.
struct Mounted<H> {
    root: HtmlElement,
    _handle: H,
}

impl<H> Drop for Mounted<H> {
    fn drop(&mut self) {
        self.root.remove();
    }
}

impl<H> Mounted<H> {
    fn find<T: JsCast>(&self, test_id: &str) -> T {
        self.root
            .query_selector(&format!("[data-testid='{test_id}']"))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("no element with data-testid={test_id}"))
            .dyn_into()
            .unwrap_or_else(|_| panic!("data-testid={test_id} is not the expected element"))
    }

    fn text(&self, test_id: &str) -> String {
        self.find::<HtmlElement>(test_id)
            .text_content()
            .unwrap_or_default()
    }

    fn frame(&self) -> u32 {
        let text = self.text("frame-counter");
        text.parse()
            .unwrap_or_else(|_| panic!("frame counter shows {text:?}"))
    }

    fn click(&self, test_id: &str) {
        self.find::<HtmlElement>(test_id).click();
    }

    fn pixels(&self, test_id: &str) -> Vec<u8> {
        let canvas: HtmlCanvasElement = self.find(test_id);
        let context: CanvasRenderingContext2d = canvas
            .get_context("2d")
            .expect("2d context")
            .expect("2d context")
            .dyn_into()
            .expect("2d context");
        let (w, h) = (canvas.width() as f64, canvas.height() as f64);
        context
            .get_image_data(0.0, 0.0, w, h)
            .expect("image data")
            .data()
            .0
    }
}

fn mount(
    initial: PageState,
    notices: Vec<String>,
    on_change: Option<Callback<PageState>>,
) -> Mounted<impl Sized> {
    mount_view(move || match on_change {
        Some(on_change) => view! { <Playground initial notices on_change /> }.into_any(),
        None => view! { <Playground initial notices /> }.into_any(),
    })
}

/// Mounts any view into its own element.
fn mount_view(f: impl FnOnce() -> AnyView + 'static) -> Mounted<impl Sized> {
    let document = document();
    let root: HtmlElement = document
        .create_element("div")
        .expect("div")
        .unchecked_into();
    document
        .body()
        .expect("body")
        .append_child(&root)
        .expect("append");
    let handle = mount_to(root.clone(), f);
    Mounted {
        root,
        _handle: handle,
    }
}

/// Waits `ms` milliseconds of real time (animation frames and timers run meanwhile).
async fn sleep(ms: u32) {
    let state = Rc::new(RefCell::new((false, None::<Waker>)));
    let _timeout = Timeout::new(ms, {
        let state = state.clone();
        move || {
            let mut state = state.borrow_mut();
            state.0 = true;
            if let Some(waker) = state.1.take() {
                waker.wake();
            }
        }
    });
    std::future::poll_fn(|cx| {
        let mut state = state.borrow_mut();
        if state.0 {
            Poll::Ready(())
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    })
    .await;
}

/// Lets effects run and the DOM catch up with the signals.
async fn settle() {
    tick().await;
    sleep(20).await;
}

fn key(kind: &str, code: &str) {
    let init = KeyboardEventInit::new();
    init.set_code(code);
    init.set_bubbles(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict(kind, &init).expect("key event");
    document()
        .body()
        .expect("body")
        .dispatch_event(&event)
        .expect("dispatch");
}

fn distinct_colours(rgba: &[u8]) -> usize {
    let mut colours: Vec<&[u8]> = rgba.chunks_exact(4).collect();
    colours.sort();
    colours.dedup();
    colours.len()
}

#[wasm_bindgen_test]
async fn both_canvases_show_the_scene_once_mounted() {
    let page = mount(paused_at(STILL_SCENE), vec![], None);
    settle().await;
    let world = page.pixels("world-canvas");
    let model = page.pixels("model-canvas");
    assert_eq!(world.len(), 384 * 384 * 4);
    assert_eq!(model.len(), 64 * 64 * 4);
    assert!(distinct_colours(&world) > 10, "the world canvas is blank");
    assert!(distinct_colours(&model) > 10, "the model's canvas is blank");
    assert_eq!(page.frame(), 0);
    assert!(page.text("scene-description").starts_with("Top-down table"));
}

#[wasm_bindgen_test]
async fn step_with_a_key_held_advances_the_counter_and_moves_the_agent() {
    let page = mount(paused_at(STILL_SCENE), vec![], None);
    settle().await;
    let before = page.pixels("world-canvas");
    let model_before = page.pixels("model-canvas");

    key("keydown", "ArrowRight");
    for _ in 0..5 {
        page.click("step-button");
    }
    settle().await;
    assert_eq!(page.frame(), 5);
    assert_eq!(page.text("steering"), "east");
    assert_ne!(
        page.pixels("world-canvas"),
        before,
        "the agent was driven but the picture did not change"
    );
    assert_ne!(page.pixels("model-canvas"), model_before);

    key("keyup", "ArrowRight");
    settle().await;
    assert_eq!(page.text("steering"), "stay");
}

#[wasm_bindgen_test]
async fn step_without_input_advances_time_but_leaves_a_still_scene_alone() {
    let page = mount(paused_at(STILL_SCENE), vec![], None);
    settle().await;
    let before = page.pixels("world-canvas");
    page.click("step-button");
    page.click("step-button");
    settle().await;
    assert_eq!(page.frame(), 2);
    assert_eq!(page.text("sim-time"), "0.2 s");
    assert_eq!(page.pixels("world-canvas"), before);
}

#[wasm_bindgen_test]
async fn keys_combine_into_diagonal_moves() {
    let page = mount(paused_at(STILL_SCENE), vec![], None);
    key("keydown", "KeyW");
    key("keydown", "KeyA");
    settle().await;
    assert_eq!(page.text("steering"), "north-west");
    key("keyup", "KeyW");
    key("keyup", "KeyA");
    settle().await;
    assert_eq!(page.text("steering"), "stay");
}

#[wasm_bindgen_test]
async fn reset_returns_to_frame_zero_and_the_first_picture() {
    let page = mount(paused_at(STILL_SCENE), vec![], None);
    settle().await;
    let first = page.pixels("world-canvas");
    key("keydown", "ArrowUp");
    for _ in 0..4 {
        page.click("step-button");
    }
    key("keyup", "ArrowUp");
    settle().await;
    assert_ne!(page.pixels("world-canvas"), first);
    page.click("reset-button");
    settle().await;
    assert_eq!(page.frame(), 0);
    assert_eq!(page.pixels("world-canvas"), first);
}

#[wasm_bindgen_test]
async fn a_seed_typed_in_the_box_builds_its_scene_and_is_reported() {
    let changes = Arc::new(Mutex::new(Vec::new()));
    let on_change = Callback::new({
        let changes = changes.clone();
        move |state| changes.lock().expect("lock").push(state)
    });
    let page = mount(paused_at(STILL_SCENE), vec![], Some(on_change));
    settle().await;
    page.click("step-button");
    let before = page.pixels("world-canvas");

    let input: HtmlInputElement = page.find("seed-input");
    assert_eq!(input.value(), STILL_SCENE.to_string());
    input.set_value("12");
    input
        .dispatch_event(&Event::new("change").expect("event"))
        .expect("dispatch");
    settle().await;

    assert_eq!(page.frame(), 0, "a new scene starts at frame 0");
    assert_ne!(page.pixels("world-canvas"), before);
    assert_eq!(changes.lock().expect("lock").last(), Some(&paused_at(12)));
}

#[wasm_bindgen_test]
async fn a_bad_seed_is_explained_and_the_scene_stays() {
    let page = mount(paused_at(STILL_SCENE), vec![], None);
    settle().await;
    page.click("step-button");
    let input: HtmlInputElement = page.find("seed-input");
    input.set_value("twelve");
    let init = EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&Event::new_with_event_init_dict("change", &init).expect("event"))
        .expect("dispatch");
    settle().await;

    assert!(
        page.text("seed-problem")
            .contains("\"twelve\" is not a whole number"),
        "{}",
        page.text("seed-problem")
    );
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(page.frame(), 1, "the scene on show must not be touched");
}

#[wasm_bindgen_test]
async fn play_runs_frames_on_its_own_and_pause_stops_them() {
    let page = mount(
        PageState {
            seed: STILL_SCENE,
            prompt: None,
            speed: 4.0,
            paused: false,
            ..PageState::default()
        },
        vec![],
        None,
    );
    sleep(600).await;
    let running = page.frame();
    assert!(
        running >= 3,
        "at 4x, 0.6 s should run about 24 frames; ran {running}"
    );
    assert_eq!(
        page.text("play-pause")
            .trim_start_matches(['❚', '▶'])
            .trim(),
        "Pause"
    );

    page.click("play-pause");
    settle().await;
    let stopped = page.frame();
    sleep(300).await;
    assert_eq!(page.frame(), stopped, "frames ran while paused");
    assert!(page.text("play-pause").ends_with("Play"));
}

#[wasm_bindgen_test]
async fn notices_are_shown_as_text_and_can_be_dismissed() {
    let notice = "seed: \"<b>bold</b>\" is not a whole number; showing seed 1".to_string();
    let page = mount(paused_at(1), vec![notice.clone()], None);
    settle().await;
    let list: HtmlElement = page.find("url-notices");
    assert!(list.text_content().unwrap_or_default().contains(&notice));
    assert!(
        list.query_selector("b").expect("query").is_none(),
        "a notice was rendered as markup"
    );

    let dismiss: HtmlElement = list
        .query_selector("button")
        .expect("query")
        .expect("dismiss button")
        .unchecked_into();
    dismiss.click();
    settle().await;
    assert!(page
        .root
        .query_selector("[data-testid='url-notices']")
        .expect("query")
        .is_none());
}

#[wasm_bindgen_test]
async fn a_sentence_in_the_prompt_box_builds_its_scene_and_is_reported() {
    let changes = Arc::new(Mutex::new(Vec::new()));
    let on_change = Callback::new({
        let changes = changes.clone();
        move |state| changes.lock().expect("lock").push(state)
    });
    let page = mount(paused_at(STILL_SCENE), vec![], Some(on_change));
    settle().await;
    page.click("step-button");
    settle().await;
    let before = page.pixels("world-canvas");
    let seeded_words = page.text("scene-words");
    assert!(seeded_words.starts_with("seen from "), "{seeded_words}");

    let prompt = "a red ball to the left of a big blue box";
    let input: HtmlInputElement = page.find("prompt-input");
    input.set_value(prompt);
    page.click("make-scene");
    settle().await;

    let words = page.text("scene-words");
    assert!(
        words.contains("red ball") && words.contains("big blue box"),
        "the scene in words should name the prompt's objects: {words}"
    );
    assert_eq!(page.text("prompt-problem"), "");
    assert_eq!(page.frame(), 0, "a new scene starts at frame 0");
    assert_ne!(
        page.pixels("world-canvas"),
        before,
        "the world was not redrawn"
    );
    assert_eq!(input.value(), prompt);
    let reported = changes.lock().expect("lock").last().cloned();
    assert_eq!(
        reported,
        Some(PageState {
            prompt: Some(prompt.into()),
            ..paused_at(STILL_SCENE)
        })
    );

    page.click("random-scene");
    settle().await;
    assert_eq!(input.value(), "", "the box is cleared");
    assert_eq!(
        page.text("scene-words"),
        seeded_words,
        "back to the seed's scene"
    );
    assert_eq!(
        changes.lock().expect("lock").last(),
        Some(&paused_at(STILL_SCENE))
    );
}

#[wasm_bindgen_test]
async fn a_sentence_that_cannot_be_read_is_explained_and_kept() {
    let page = mount(paused_at(STILL_SCENE), vec![], None);
    settle().await;
    page.click("step-button");
    settle().await;
    let words = page.text("scene-words");
    let before = page.pixels("world-canvas");

    let input: HtmlInputElement = page.find("prompt-input");
    input.set_value("a red dragon");
    page.click("make-scene");
    settle().await;

    let problem = page.text("prompt-problem");
    assert!(problem.contains("\"dragon\""), "{problem}");
    assert_eq!(input.value(), "a red dragon", "the typed text was lost");
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(page.frame(), 1, "the scene on show must not be touched");
    assert_eq!(page.text("scene-words"), words);
    assert_eq!(page.pixels("world-canvas"), before);

    // Markup typed into the box is shown as text.
    input.set_value("<img src=x onerror=alert(1)>");
    page.click("make-scene");
    settle().await;
    let problem: HtmlElement = page.find("prompt-problem");
    assert!(problem.query_selector("img").expect("query").is_none());
    assert!(problem.text_content().unwrap_or_default().contains("img"));
}

#[wasm_bindgen_test]
async fn a_prompt_to_start_from_is_shown_in_the_box_and_in_words() {
    let page = mount(
        PageState {
            prompt: Some("two red balls".into()),
            ..paused_at(3)
        },
        vec![],
        None,
    );
    settle().await;
    let input: HtmlInputElement = page.find("prompt-input");
    assert_eq!(input.value(), "two red balls");
    assert_eq!(page.text("scene-words"), "seen from above, two red balls");
    assert!(page.text("scene-description").contains("2 objects"));
}

#[wasm_bindgen_test]
async fn without_the_model_files_the_dream_panel_says_so_and_the_world_still_runs() {
    // The test server has no weights/ folder: loading must fail with a readable message.
    let page = mount(paused_at(STILL_SCENE), vec![], None);
    let mut status = String::new();
    for _ in 0..100 {
        settle().await;
        status = page.text("model-status");
        if status.starts_with("The model could not start") {
            break;
        }
    }
    assert!(
        status.starts_with("The model could not start") && status.contains("manifest"),
        "{status}"
    );
    assert!(page.text("model-error").contains("keeps running"));
    key("keydown", "KeyD");
    page.click("step-button");
    key("keyup", "KeyD");
    settle().await;
    assert_eq!(page.frame(), 1);
    assert_eq!(page.text("psnr-latest"), "no step yet");
}

/// The shipped student, loaded on the CPU path from the committed files.
async fn shipped_runtime() -> runtime::Runtime {
    let manifest = include_str!("../../public/weights/manifest.json");
    let bytes = include_bytes!("../../public/weights/student.safetensors");
    runtime::Runtime::load(manifest, bytes, runtime::Prefer::Cpu)
        .await
        .expect("the shipped weights load")
}

/// Waits until `done` holds, checking every 50 ms, for at most `ms` milliseconds.
async fn wait_for(ms: u32, what: &str, done: impl Fn() -> bool) {
    for _ in 0..ms / 50 {
        if done() {
            return;
        }
        sleep(50).await;
    }
    panic!("waited {ms} ms for {what}");
}

#[wasm_bindgen_test]
async fn the_ask_demo_shows_the_runtimes_own_answer_beside_the_simulators() {
    use app::ask::{question_words, reply_text, AskClip};
    use app::components::AskDemo;
    use app::dreamer::Dreamer;

    let dreamer = Dreamer::with_runtime(NodeRef::new(), shipped_runtime().await);
    let page = mount_view(move || {
        view! { <AskDemo dreamer seed=Signal::stored(1u64) on_new_clip=Callback::new(|_| {}) /> }
            .into_any()
    });
    settle().await;
    assert!(
        distinct_colours(&page.pixels("clip-canvas")) > 1,
        "the clip is blank"
    );
    // The first rows are one question of each type, in order.
    let rows = page
        .root
        .query_selector_all("[data-testid='question']")
        .expect("rows");
    assert!(rows.length() >= 5);
    let kinds: Vec<String> = (0..5)
        .map(|i| {
            rows.item(i)
                .unwrap()
                .unchecked_into::<web_sys::Element>()
                .get_attribute("data-kind")
                .unwrap()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "descriptive",
            "explanatory",
            "predictive",
            "counterfactual",
            "property"
        ]
    );
    // Ask the first (descriptive) question through the page.
    let first: web_sys::Element = rows.item(0).unwrap().unchecked_into();
    first
        .query_selector("button")
        .unwrap()
        .expect("an Ask button")
        .unchecked_into::<HtmlElement>()
        .click();
    wait_for(60_000, "the model's reply", || {
        page.root
            .query_selector("[data-testid='reply']")
            .ok()
            .flatten()
            .is_some()
    })
    .await;
    let shown = page.text("reply");
    let shown_p = page.text("reply-p");
    // The same question straight to a second runtime: the same words and probabilities.
    let clip = AskClip::new(1).unwrap();
    let asked = clip.questions().remove(0);
    let (frames, actions) = clip.clip(asked.frames);
    let mut direct = shipped_runtime().await;
    let reply = direct
        .ask(&frames, actions, &question_words(&asked.question).unwrap())
        .await
        .unwrap();
    assert_eq!(shown, reply_text(&reply.words));
    let probs: Vec<String> = reply
        .words
        .iter()
        .map(|w| format!("{:.0}%", w.1 * 100.0))
        .collect();
    assert_eq!(shown_p, format!(" ({})", probs.join(" ")));
    assert_eq!(page.text("truth"), asked.truth);
    let verdict = page.text("verdict");
    assert_eq!(verdict.contains("right"), shown == asked.truth, "{verdict}");
}

#[wasm_bindgen_test]
async fn the_plan_demo_runs_an_episode_to_its_end_and_counts_it() {
    use app::components::PlanDemo;
    use app::dreamer::Dreamer;

    let dreamer = Dreamer::with_runtime(NodeRef::new(), shipped_runtime().await);
    let rollouts = RwSignal::new(32u32);
    let horizon = RwSignal::new(6u32);
    let page = mount_view(move || {
        view! {
            <PlanDemo dreamer seed=Signal::stored(5u64) rollouts horizon on_new_task=Callback::new(|_| {}) />
        }
        .into_any()
    });
    settle().await;
    assert!(
        distinct_colours(&page.pixels("plan-canvas")) > 1,
        "the task is blank"
    );
    assert!(
        page.text("goal").ends_with("zone ."),
        "{}",
        page.text("goal")
    );
    // A goal sentence the world cannot read is explained, and the goal stays.
    let goal = page.text("goal");
    let input: HtmlInputElement = page.find("goal-input");
    input.set_value("push the dragon into the green zone");
    input.dispatch_event(&Event::new("input").unwrap()).unwrap();
    let init = EventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    page.root
        .query_selector(".goal-sentence")
        .unwrap()
        .expect("the goal form")
        .dispatch_event(&Event::new_with_event_init_dict("submit", &init).unwrap())
        .unwrap();
    settle().await;
    assert!(
        page.text("plan-problem").contains("dragon"),
        "{}",
        page.text("plan-problem")
    );
    assert_eq!(page.text("goal"), goal);
    // One planning episode, to success or to the step limit.
    page.click("run-plan");
    wait_for(120_000, "the planning episode to end", || {
        page.text("model-episodes") == "1"
    })
    .await;
    let status = page.text("plan-status");
    assert!(
        status.starts_with("Done") || status.starts_with("Missed"),
        "{status}"
    );
    assert!(page.text("plan-timing").contains("imagined futures"));
    let lines = page
        .root
        .query_selector_all("[data-testid='fan'] polyline")
        .unwrap()
        .length();
    assert!(lines > 1, "no fan of imagined futures");
    // Random moves on the same task, for comparison.
    page.click("run-random");
    wait_for(30_000, "the random episode to end", || {
        page.text("random-episodes") == "1"
    })
    .await;
}

/// The shipped student with the page's frame predictor and state nets attached, on the CPU
/// path.
async fn shipped_runtime_with_nets() -> runtime::Runtime {
    let mut rt = shipped_runtime().await;
    rt.attach(
        layout::weights::FRAMES_NET,
        include_bytes!("../../public/weights/frames.safetensors"),
    )
    .expect("the shipped frame predictor loads");
    rt.attach(
        layout::weights::STATE_NET,
        include_bytes!("../../public/weights/state.safetensors"),
    )
    .expect("the shipped state nets load");
    rt
}

#[wasm_bindgen_test]
async fn the_explain_demo_steps_the_dream_and_shows_its_insides() {
    use app::components::ExplainDemo;
    use app::dreamer::Dreamer;

    let dreamer = Dreamer::with_runtime(NodeRef::new(), shipped_runtime_with_nets().await);
    let page =
        mount_view(move || view! { <ExplainDemo dreamer seed=Signal::stored(3u64) /> }.into_any());
    settle().await;
    assert!(
        distinct_colours(&page.pixels("explain-frame")) > 1,
        "no frame before the first step"
    );
    assert_eq!(page.text("explain-steps"), "0 steps");
    page.click("explain-step");
    wait_for(30_000, "one step", || page.text("explain-steps") == "1 steps").await;
    settle().await;
    for canvas in [
        "explain-stage-0",
        "explain-stage-2",
        "explain-stage-4",
        "explain-change",
        "explain-likeliest",
        "explain-state",
        "explain-next-frame",
    ] {
        assert!(
            distinct_colours(&page.pixels(canvas)) > 1,
            "{canvas} is blank after a step"
        );
    }
    assert!(page.text("explain-size").contains("parameters"));
    assert!(
        page.text("explain-tracked").contains("agent at ("),
        "{}",
        page.text("explain-tracked")
    );
    // The pixel asked about: the likeliest to change until one is picked.
    let asked = page.text("explain-pixel");
    assert!(asked.starts_with("pixel ("), "{asked}");
    assert!(asked.contains("likeliest next:"), "{asked}");
    // The arrow keys move the pixel asked about, for people without a pointer.
    let picker: HtmlElement = page.find("explain-pixel-picker");
    let init = KeyboardEventInit::new();
    init.set_key("ArrowLeft");
    init.set_bubbles(true);
    picker
        .dispatch_event(
            &KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap(),
        )
        .unwrap();
    settle().await;
    assert_ne!(page.text("explain-pixel"), asked, "the arrow key did not move the pixel");
    // The stages as activity instead of channels.
    let channels = page.pixels("explain-stage-2");
    page.click("explain-activity");
    settle().await;
    assert!(page.pixels("explain-stage-2") != channels, "the stage pictures did not change");
    // The next step reads the model's own frame.
    let dreamed = page.pixels("explain-next-frame");
    page.click("explain-step");
    wait_for(30_000, "a second step", || page.text("explain-steps") == "2 steps").await;
    settle().await;
    assert!(
        page.pixels("explain-frame") == dreamed,
        "the second step did not read the first step's frame"
    );
}

/// The shipped student on the WGSL path (WebGPU; SwiftShader in the test browser).
async fn shipped_gpu_runtime() -> runtime::Runtime {
    let manifest = include_str!("../../public/weights/manifest.json");
    let bytes = include_bytes!("../../public/weights/student.safetensors");
    let rt = runtime::Runtime::load(manifest, bytes, runtime::Prefer::Gpu)
        .await
        .expect("the shipped weights load");
    assert!(
        rt.describe().starts_with("GPU"),
        "the test browser gave no WebGPU adapter: {}",
        rt.describe()
    );
    rt
}

/// Destroys the WebGPU device under the model (`GPUDevice.destroy()`) as its next call starts.
fn destroy_device(dreamer: &app::dreamer::Dreamer) {
    assert!(dreamer.lose_device(), "the model is not ready");
}

#[wasm_bindgen_test]
async fn a_dream_goes_on_after_the_webgpu_device_is_destroyed() {
    use app::dream::rgb_to_rgba;
    use app::dreamer::{Dreamer, ModelStatus};

    // Mounting starts the task executor the dreamer's calls run on.
    let _page = mount_view(|| view! { <p>"dreaming"</p> }.into_any());
    let dreamer = Dreamer::with_runtime(NodeRef::new(), shipped_gpu_runtime().await);
    let config = world::episode::EpisodeConfig {
        steps: 8,
        questions: false,
        ..Default::default()
    };
    let episode = world::episode::generate_episode(4, &config).unwrap();
    dreamer.reset(0, &rgb_to_rgba(episode.frame(0)), vec![]);
    let scores = dreamer.view.scores;
    let step = |t: usize| {
        dreamer.observe(
            t as u32,
            episode.actions[t - 1],
            &rgb_to_rgba(episode.frame(t)),
        );
        dreamer.pump();
    };
    for t in 1..=4 {
        step(t);
    }
    wait_for(60_000, "four dreamed steps", || {
        scores.get_untracked().len() == 4
    })
    .await;
    destroy_device(&dreamer);
    for t in 5..=8 {
        step(t);
    }
    wait_for(60_000, "every step dreamed after the loss", || {
        scores.get_untracked().len() == 8
    })
    .await;
    let notice = dreamer.view.notice.get_untracked().unwrap_or_default();
    assert!(notice.contains("GPU device was lost"), "{notice}");
    assert!(
        matches!(dreamer.view.status.get_untracked(), ModelStatus::Ready(ref d) if d.starts_with("GPU")),
        "the model is not back on the GPU"
    );
}

#[wasm_bindgen_test]
async fn a_plan_goes_on_after_the_webgpu_device_is_destroyed() {
    use app::components::PlanDemo;
    use app::dreamer::Dreamer;

    let dreamer = Dreamer::with_runtime(NodeRef::new(), shipped_gpu_runtime().await);
    let drill = dreamer.clone();
    let page = mount_view(move || {
        view! {
            <PlanDemo dreamer seed=Signal::stored(5u64) rollouts=RwSignal::new(16u32) horizon=RwSignal::new(4u32) on_new_task=Callback::new(|_| {}) />
        }
        .into_any()
    });
    settle().await;
    page.click("run-plan");
    wait_for(60_000, "two planned moves", || {
        page.text("plan-progress").starts_with("move 2 ")
    })
    .await;
    destroy_device(&drill);
    wait_for(240_000, "the planning episode to end", || {
        page.text("model-episodes") == "1"
    })
    .await;
    let status = page.text("plan-status");
    assert!(
        status.starts_with("Done") || status.starts_with("Missed"),
        "the episode did not go on to its end: {status}"
    );
    assert!(
        page.text("model-notice").contains("GPU device was lost"),
        "{}",
        page.text("model-notice")
    );
}
