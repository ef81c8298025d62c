use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;

use crate::browser::{random_seed, FrameLoop};
use crate::components::{
    CaptionLog, DreamPanel, ModelView, Notices, PromptField, Readout, SeedField, Transport,
    WorldView,
};
use crate::controls::{key_command, KeyCommand};
use crate::dreamer::Dreamer;
use crate::stage::{Canvases, Stage};
use crate::url_state::PageState;

/// The Dream: a scene running live beside the model's dream of it, play / pause / step /
/// reset, seed and speed, a sentence to make the scene from, and the events in words as they
/// happen. Arrow keys or WASD (or a pointer held on the world) drive the agent. Controls named
/// in the state's `hide` list are left out.
#[component]
pub fn Playground(
    /// Seed, prompt, speed and pause state to start from.
    initial: PageState,
    /// Problems with the address the page was opened with, shown above the world.
    #[prop(optional)]
    notices: Vec<String>,
    /// The model; a fresh one (loading it) when not given.
    #[prop(optional)]
    dreamer: Option<Dreamer>,
    /// The canvas the dream is painted into (the one `dreamer` was made with).
    #[prop(optional)]
    dream_canvas: Option<NodeRef<leptos::html::Canvas>>,
    /// Told every new seed, prompt, speed or pause state, e.g. to keep the address bar in step.
    #[prop(optional, into)]
    on_change: Option<Callback<PageState>>,
) -> impl IntoView {
    let canvases = Canvases {
        world: NodeRef::new(),
        model: NodeRef::new(),
    };
    let (dreamer, dream_canvas) = match (dreamer, dream_canvas) {
        (Some(d), Some(c)) => (d, c),
        _ => {
            let canvas = NodeRef::new();
            (
                Dreamer::new(canvas, initial.temperature, initial.resync, initial.backend),
                canvas,
            )
        }
    };
    let hide = initial.hide.clone();
    let shows = move |name: &str| !hide.contains(&name);
    let stage = Stage::new(initial, canvases, on_change, Some(dreamer.clone()));
    // The dream's controls go into the page state, and so into the address.
    Effect::new({
        let stage = stage.clone();
        let settings = dreamer.view;
        move |_| stage.set_dream_settings(settings.temperature.get(), settings.resync.get())
    });
    let view = stage.view;

    // The first picture, as soon as the canvases are in the document.
    Effect::new({
        let stage = stage.clone();
        let dreamer = dreamer.clone();
        move |_| {
            if canvases.world.get().is_some() && canvases.model.get().is_some() {
                stage.paint();
            }
            if dream_canvas.get().is_some() {
                dreamer.show();
            }
        }
    });

    // Stopped when this component goes away: the loop is dropped with its owner.
    let frame_loop = FrameLoop::start({
        let stage = stage.clone();
        move |now| stage.on_animation_frame(now)
    });
    StoredValue::new_local(frame_loop);

    let key_down = window_event_listener(ev::keydown, {
        let stage = stage.clone();
        move |event| handle_key(&stage, &event, true)
    });
    let key_up = window_event_listener(ev::keyup, {
        let stage = stage.clone();
        move |event| handle_key(&stage, &event, false)
    });
    // Key-ups are not seen while the page is in the background: forget held keys on leaving.
    let blur = window_event_listener(ev::blur, {
        let stage = stage.clone();
        move |_| stage.release_all()
    });
    on_cleanup(move || {
        key_down.remove();
        key_up.remove();
        blur.remove();
    });

    let paused = Signal::derive(move || view.page.read().paused);
    let speed = Signal::derive(move || view.page.read().speed);
    let seed = Signal::derive(move || view.page.read().seed);
    let prompt = Signal::derive(move || view.page.read().prompt.clone());
    let with = |act: fn(&Stage)| {
        let stage = stage.clone();
        move || act(&stage)
    };
    let on_seed = {
        let stage = stage.clone();
        move |value| stage.set_seed(value)
    };
    let on_random = {
        let stage = stage.clone();
        move || stage.set_seed(random_seed())
    };
    let on_prompt = {
        let stage = stage.clone();
        move |text: String| stage.set_prompt(&text)
    };
    let on_clear = {
        let stage = stage.clone();
        move || stage.set_prompt("")
    };
    let on_speed = {
        let stage = stage.clone();
        move |value| stage.set_speed(value)
    };
    let on_pointer = {
        let stage = stage.clone();
        move |target| stage.steer_pointer(target)
    };

    view! {
        <section class="demo dream-demo" data-testid="dream-demo" aria-label="Dream beside the simulator">
            <Notices notices />
            {move || {
                view.error
                    .get()
                    .map(|message| view! { <p class="error" role="alert" data-testid="error">{message}</p> })
            }}
            <div class="toolbar">
                {shows("transport").then(|| view! {
                    <Transport
                        paused
                        speed
                        on_toggle=with(Stage::toggle_play)
                        on_step=with(Stage::step)
                        on_reset=with(Stage::restart)
                        on_speed
                    />
                })}
                {shows("seed").then(|| view! { <SeedField seed on_seed on_random /> })}
            </div>
            {shows("prompt").then(|| view! { <PromptField prompt problem=view.prompt_problem on_prompt on_clear /> })}
            <div class="layout">
                <section class="stage-column" aria-label="The world">
                    <WorldView canvas=canvases.world scene=view.scene words=view.scene_words on_pointer />
                    <Readout frame=view.frame steering=view.steering />
                    <p class="hint">
                        "Drive the agent with " <kbd>"←"</kbd> <kbd>"↑"</kbd> <kbd>"→"</kbd> <kbd>"↓"</kbd>
                        " or " <kbd>"W"</kbd> <kbd>"A"</kbd> <kbd>"S"</kbd> <kbd>"D"</kbd>
                        ", or press and hold on the world. " <kbd>"Space"</kbd> " plays or pauses, "
                        <kbd>"."</kbd> " steps one frame."
                    </p>
                </section>
                <aside class="side-column">
                    <ModelView canvas=canvases.model />
                    <DreamPanel
                        canvas=dream_canvas
                        dreamer=dreamer.clone()
                        scene_words=view.scene_words
                        show_temperature=shows("temperature")
                        show_resync=shows("resync")
                        show_draw=shows("draw")
                    />
                    <CaptionLog caption=view.caption lines=view.log />
                </aside>
            </div>
        </section>
    }
}

/// Keys anywhere on the page drive the agent, except while typing in a field; Space is left
/// to a focused button, which it presses.
fn handle_key(stage: &Stage, event: &KeyboardEvent, down: bool) {
    if event.ctrl_key() || event.meta_key() || event.alt_key() {
        return;
    }
    let Some(command) = key_command(&event.code()) else {
        return;
    };
    let target = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .map(|element| element.tag_name())
        .unwrap_or_default();
    let typing = matches!(target.as_str(), "INPUT" | "SELECT" | "TEXTAREA");
    match command {
        // A key let go while typing still counts, or the agent would keep going.
        KeyCommand::Move(direction) if !down => stage.steer_key(direction, false),
        _ if typing => return,
        KeyCommand::Move(direction) => stage.steer_key(direction, true),
        KeyCommand::TogglePlay if target == "BUTTON" => return,
        KeyCommand::TogglePlay if down && !event.repeat() => stage.toggle_play(),
        // Held down, it keeps stepping at the keyboard's repeat rate.
        KeyCommand::Step if down => stage.step(),
        KeyCommand::TogglePlay | KeyCommand::Step => {}
    }
    // Arrows and Space would otherwise scroll the page.
    event.prevent_default();
}
