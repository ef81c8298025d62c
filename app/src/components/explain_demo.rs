use std::cell::RefCell;
use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use runtime::DreamInside;
use world::action::{Action, DISCRETE_NAMES};
use world::render::{Renderer, FRAME_SIZE};
use world::scene::Scene;
use world::sim::Simulator;

use crate::browser::paint;
use crate::components::ModelBox;
use crate::dream::rgb_to_rgba;
use crate::dreamer::{Dreamer, ModelStatus};
use crate::explain::{
    cell_at, describe_pixel, describe_tracked, heat, likeliest_picture, motion, state_picture,
};

/// Where the model stands in the explainer: its two context frames, the true world beside it.
struct Walk {
    sim: Simulator,
    scene: Scene,
    renderer: Renderer,
    /// The model's context: the frame before and the frame now (its own dreams after a step).
    context: [Vec<u8>; 2],
    /// The move that led to the frame now.
    last: u8,
    /// The simulator's frame now, taking the same actions.
    truth: Vec<u8>,
    /// The two frames the last pass read (shown in stage 1 beside that pass's insides).
    read: Option<[Vec<u8>; 2]>,
    step: u32,
}

impl Walk {
    fn new(seed: u64) -> Result<Walk, String> {
        let scene = Scene::generate(seed);
        let mut sim = Simulator::new(&scene);
        let mut renderer = Renderer::new(FRAME_SIZE, FRAME_SIZE).map_err(|e| e.to_string())?;
        let first = renderer.draw_rgb(&scene, &sim.state());
        sim.step(Action::from_discrete(0));
        let second = renderer.draw_rgb(&scene, &sim.state());
        Ok(Walk {
            sim,
            scene,
            renderer,
            context: [first, second.clone()],
            last: 0,
            truth: second,
            read: None,
            step: 0,
        })
    }
}

/// A square canvas `size` pixels a side, shown large with its pixels as blocks.
#[component]
fn Picture(
    node_ref: NodeRef<Canvas>,
    size: usize,
    test_id: &'static str,
    label: &'static str,
    #[prop(default = false)] small: bool,
) -> impl IntoView {
    view! {
        <canvas
            node_ref=node_ref
            class="explain-picture"
            class:small=small
            data-testid=test_id
            width=size.to_string()
            height=size.to_string()
            role="img"
            aria-label=label
        ></canvas>
    }
}

/// The frame predictor's stages as [`runtime::frame_net::body`] names them, with their sides.
const STAGES: [(&str, usize, &str); 5] = [
    ("32x32", 32, "explain-stage-0"),
    ("16x16", 16, "explain-stage-1"),
    ("8x8", 8, "explain-stage-2"),
    ("up 16x16", 16, "explain-stage-3"),
    ("up 32x32", 32, "explain-stage-4"),
];

/// For educators: one step of the dream at a time, opened up. The frame predictor reads two
/// frames and two moves, works its way down to 8 x 8 and back up, and says of every pixel how
/// likely it changes and to what; the model's state carries each thing with the move; the
/// next frame is drawn from both. The step button takes one step and the model goes on from
/// its own frame, as in the Dream.
#[component]
pub fn ExplainDemo(
    dreamer: Dreamer,
    #[prop(into)] seed: Signal<u64>,
    #[prop(default = true)] show_temperature: bool,
) -> impl IntoView {
    let view = dreamer.view;
    let walk: Rc<RefCell<Option<Walk>>> = Rc::new(RefCell::new(None));
    let inside = RwSignal::new_local(None::<Rc<DreamInside>>);
    let problem = RwSignal::new(None::<String>);
    let action = RwSignal::new(1u8);
    let temperature = RwSignal::new(0.0f32);
    let activity = RwSignal::new(false); // the stages as activity, else as channels
    let probe = RwSignal::new(None::<usize>); // a pixel; default: the likeliest to change
    let steps = RwSignal::new(0u32);
    let busy = RwSignal::new(false);
    // What the last step read: the frame now, and the move before it and the move taken.
    let read_now = RwSignal::new(None::<Vec<u8>>);
    let moves_read = RwSignal::new(None::<(u8, u8)>);

    let prev_frame: NodeRef<Canvas> = NodeRef::new();
    let frame_canvas: NodeRef<Canvas> = NodeRef::new();
    let motion_canvas: NodeRef<Canvas> = NodeRef::new();
    let stage_canvases: [NodeRef<Canvas>; 5] = std::array::from_fn(|_| NodeRef::new());
    let change_canvas: NodeRef<Canvas> = NodeRef::new();
    let likeliest_canvas: NodeRef<Canvas> = NodeRef::new();
    let state_canvas: NodeRef<Canvas> = NodeRef::new();
    let next_frame: NodeRef<Canvas> = NodeRef::new();
    let truth_frame: NodeRef<Canvas> = NodeRef::new();

    let show = move |canvas: NodeRef<Canvas>, rgba: &[u8], size: u32| {
        if let Some(el) = canvas.get_untracked() {
            if let Err(e) = paint(&el, rgba, size) {
                problem.set(Some(e.to_string()));
            }
        }
    };

    // A fresh walk for every seed.
    Effect::new({
        let walk = walk.clone();
        move |_| {
            match Walk::new(seed.get()) {
                Ok(w) => {
                    *walk.borrow_mut() = Some(w);
                    problem.set(None);
                }
                Err(e) => problem.set(Some(e)),
            }
            inside.set(None);
            probe.set(None);
            read_now.set(None);
            moves_read.set(None);
            steps.set(0);
        }
    });

    // The pictures of the current step.
    Effect::new({
        let walk = walk.clone();
        move |_| {
            let ins = inside.get();
            let as_activity = activity.get();
            let _ = steps.get();
            let w = walk.borrow();
            let Some(w) = w.as_ref() else { return };
            let read = w.read.as_ref().unwrap_or(&w.context);
            show(prev_frame, &rgb_to_rgba(&read[0]), FRAME_SIZE);
            show(frame_canvas, &rgb_to_rgba(&read[1]), FRAME_SIZE);
            show(motion_canvas, &heat(&motion(&read[0], &read[1]), Some(0.5)), FRAME_SIZE);
            show(truth_frame, &rgb_to_rgba(&w.truth), FRAME_SIZE);
            let Some(ins) = ins else { return };
            for (canvas, stage) in stage_canvases.iter().zip(&ins.stages) {
                let picture = if as_activity { heat(&stage.activity, None) } else { stage.colours.clone() };
                show(*canvas, &picture, stage.side as u32);
            }
            show(change_canvas, &heat(&ins.change, Some(1.0)), FRAME_SIZE);
            show(likeliest_canvas, &likeliest_picture(&ins.likeliest), FRAME_SIZE);
            show(state_canvas, &state_picture(&ins.frame, FRAME_SIZE as usize, &ins.tracked), FRAME_SIZE);
            show(next_frame, &rgb_to_rgba(&ins.frame), FRAME_SIZE);
        }
    });

    let run_step = {
        let walk = walk.clone();
        let dreamer = dreamer.clone();
        move || {
            let Some((context, last, step)) =
                walk.borrow().as_ref().map(|w| (w.context.clone(), w.last, w.step))
            else {
                return;
            };
            let a = action.get_untracked();
            let t = temperature.get_untracked();
            // Each step draws from its own stream of the seed.
            let stream = (seed.get_untracked() as u32) ^ step.wrapping_mul(0x9E37_79B9);
            let walk = walk.clone();
            busy.set(true);
            let started = dreamer.run_job(move |mut rt| async move {
                match rt.explain_dream([&context[0], &context[1]], last, a, t, stream).await {
                    Ok(ins) => {
                        if let Some(w) = walk.borrow_mut().as_mut() {
                            // The model goes on from its own frame; the world takes the same move.
                            w.read = Some(w.context.clone());
                            read_now.set(Some(w.context[1].clone()));
                            moves_read.set(Some((w.last, a)));
                            w.context = [w.context[1].clone(), ins.frame.clone()];
                            w.last = a;
                            w.sim.step(Action::from_discrete(a));
                            w.truth = w.renderer.draw_rgb(&w.scene, &w.sim.state());
                            w.step += 1;
                        }
                        inside.set(Some(Rc::new(ins)));
                        steps.update(|s| *s += 1);
                    }
                    Err(e) => problem.set(Some(format!("The step failed: {e}"))),
                }
                busy.set(false);
                rt
            });
            if !started {
                busy.set(false);
                problem.set(Some(
                    "The model is busy or still loading: try again in a moment.".into(),
                ));
            }
        }
    };

    // The pixel asked about: the one picked, else the likeliest to change.
    let probed = move || {
        inside.get().map(|ins| {
            probe.get().unwrap_or_else(|| {
                (0..ins.change.len()).fold(0, |b, p| if ins.change[p] > ins.change[b] { p } else { b })
            })
        })
    };
    let pick_pixel = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = ev
            .current_target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
        else {
            return;
        };
        let r = el.get_bounding_client_rect();
        let size = FRAME_SIZE as f64;
        let x = (ev.client_x() as f64 - r.left()) / r.width() * size;
        let y = (ev.client_y() as f64 - r.top()) / r.height() * size;
        if let Some(p) = cell_at(x, y, size, FRAME_SIZE as usize) {
            probe.set(Some(p));
        }
    };
    // The arrow keys move the pixel asked about, for people without a pointer.
    let move_probe = move |ev: leptos::ev::KeyboardEvent| {
        let Some(p) = probed() else { return };
        let side = FRAME_SIZE as usize;
        let (row, col) = (p / side, p % side);
        let (row, col) = match ev.key().as_str() {
            "ArrowLeft" => (row, col.saturating_sub(1)),
            "ArrowRight" => (row, (col + 1).min(side - 1)),
            "ArrowUp" => (row.saturating_sub(1), col),
            "ArrowDown" => ((row + 1).min(side - 1), col),
            _ => return,
        };
        ev.prevent_default();
        probe.set(Some(row * side + col));
    };
    let pixel_text = move || {
        let ins = inside.get()?;
        let p = probed()?;
        read_now.with(|now| {
            now.as_ref()
                .map(|now| describe_pixel(p, FRAME_SIZE as usize, now, ins.change[p], &ins.likeliest[p]))
        })
    };

    let ready = move || matches!(view.status.get(), ModelStatus::Ready(_));
    let size_text = move || {
        inside.get().map(|ins| {
            format!(
                "The frame predictor has {:.0}k parameters and takes {:.0} million multiply-adds a frame.",
                ins.parameters as f64 / 1e3,
                ins.flops / 2e6
            )
        })
    };
    let moves_text = move || {
        // Before the first step: the walk starts after a stay.
        let (before, now) = moves_read.get().unwrap_or((0, action.get()));
        format!(
            "the move before: {}; the move now: {}",
            DISCRETE_NAMES[before as usize], DISCRETE_NAMES[now as usize]
        )
    };
    let tracked_list = move || {
        inside.get().map(|ins| {
            ins.tracked
                .iter()
                .map(|t| view! { <li>{describe_tracked(t)}</li> })
                .collect_view()
        })
    };

    view! {
        <section class="demo explain-demo" data-testid="explain-demo" aria-label="How the model works, step by step">
            <div class="demo-intro">
                <p>
                    "What happens inside one step of the dream. Press Step: the model reads two frames and two moves, "
                    "and draws the next frame. Then it goes on from its own picture, as in the Dream."
                </p>
                <p class="note" data-testid="explain-size">{size_text}</p>
            </div>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            <ModelBox view=view verb="Explaining" />
            <div class="panel explain-controls">
                <label>
                    "Move "
                    <select data-testid="explain-action" prop:value=move || action.get().to_string()
                        on:change=move |ev| action.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {DISCRETE_NAMES.iter().enumerate().map(|(i, name)| view! {
                            <option value=i.to_string()>{*name}</option>
                        }).collect_view()}
                    </select>
                </label>
                {show_temperature.then(|| view! {
                    <label>
                        "Temperature "
                        <input type="range" min="0" max="1.5" step="0.1" data-testid="explain-temperature"
                            prop:value=move || temperature.get().to_string()
                            on:input=move |ev| {
                                if let Ok(t) = event_target_value(&ev).parse::<f32>() {
                                    temperature.set(t.clamp(0.0, 1.5));
                                }
                            }
                        />
                        <output>{move || format!("{:.1}", temperature.get())}</output>
                    </label>
                })}
                <button type="button" class="button primary" data-testid="explain-step"
                    disabled=move || !ready() || busy.get()
                    on:click={
                        let run_step = run_step.clone();
                        move |_| run_step()
                    }>
                    "Step: one move"
                </button>
                <span data-testid="explain-steps">{move || format!("{} steps", steps.get())}</span>
            </div>
            <ol class="explain-stages">
                <li class="panel">
                    <h2>"1. What the model reads"</h2>
                    <div class="explain-row">
                        <figure>
                            <Picture node_ref=prev_frame size=64 test_id="explain-prev" label="The frame before" />
                            <figcaption>"the frame before"</figcaption>
                        </figure>
                        <figure>
                            <Picture node_ref=frame_canvas size=64 test_id="explain-frame" label="The frame the model sees now" />
                            <figcaption>"the frame now"</figcaption>
                        </figure>
                        <figure>
                            <Picture node_ref=motion_canvas size=64 test_id="explain-motion" label="What changed between the two frames" />
                            <figcaption>"what changed"</figcaption>
                        </figure>
                    </div>
                    <p class="note" data-testid="explain-moves">{moves_text}</p>
                    <p class="note">
                        "The model reads the last two frames and how they differ, every 2 × 2 pixels folded into "
                        "one of 32 × 32 cells (36 numbers each), and two moves: the one that led to the frame now "
                        "(the agent's motor is still changing its speed) and the one to take."
                    </p>
                </li>
                <li class="panel">
                    <h2>"2. Down to 8 × 8 and back up"</h2>
                    <div class="explain-row">
                        {STAGES.into_iter().zip(stage_canvases).map(|((name, side, id), canvas)| view! {
                            <figure>
                                <Picture node_ref=canvas size=side test_id=id label="One stage of the frame predictor" small=true />
                                <figcaption>{move || {
                                    let channels = inside.get().and_then(|i| i.stages.iter().find(|s| s.name == name).map(|s| s.channels));
                                    channels.map_or_else(|| name.to_string(), |c| format!("{name} × {c}"))
                                }}</figcaption>
                            </figure>
                        }).collect_view()}
                    </div>
                    <label class="note">
                        <input type="checkbox" data-testid="explain-activity"
                            prop:checked=move || activity.get()
                            on:change=move |ev| activity.set(event_target_checked(&ev)) />
                        " show how active each cell is (else: its three most varied channels as colours)"
                    </label>
                    <p class="note">
                        "Each stage is a few 3 × 3 convolutions. On the way down each cell sees more of the arena "
                        "(at 8 × 8, all of it: where a push will send a ball); on the way up the maps from the way "
                        "down are joined in again, so that the picture stays sharp. The moves enter as a learned "
                        "bias at every level on the way down, one for each pair of moves."
                    </p>
                </li>
                <li class="panel">
                    <h2>"3. What it says of each pixel"</h2>
                    <div class="explain-row">
                        <figure
                            tabindex="0"
                            data-testid="explain-pixel-picker"
                            aria-label="Which pixel to ask about: click one, or move with the arrow keys"
                            on:click=pick_pixel
                            on:keydown=move_probe
                        >
                            <Picture node_ref=change_canvas size=64 test_id="explain-change" label="How likely each pixel changes colour; click a pixel to ask about it" />
                            <figcaption>"how likely it changes (click a pixel, or arrow keys)"</figcaption>
                        </figure>
                        <figure>
                            <Picture node_ref=likeliest_canvas size=64 test_id="explain-likeliest" label="Each pixel's likeliest colour" />
                            <figcaption>"its likeliest colour"</figcaption>
                        </figure>
                    </div>
                    <p class="note"><strong data-testid="explain-pixel">{pixel_text}</strong></p>
                    <p class="note">
                        "For every pixel the model gives a probability to each of the 14 colours the world is "
                        "painted with, the colour it has now starting ahead. Most pixels keep theirs: the model "
                        "only has to say where things change, so a still pixel comes out exactly as it was."
                    </p>
                </li>
                <li class="panel">
                    <h2>"4. The state: where each thing goes"</h2>
                    <div class="explain-row">
                        <figure>
                            <Picture node_ref=state_canvas size=64 test_id="explain-state" label="Where the model's state puts each thing after the move" />
                            <figcaption>"one cross per dynamics net"</figcaption>
                        </figure>
                        <ul class="tracked" data-testid="explain-tracked">{tracked_list}</ul>
                    </div>
                    <p class="note">
                        "Beside the pixels the model keeps a small state, read off the frames: where the agent and "
                        "each object are and how they move. Three small dynamics nets carry it through the move; "
                        "where they disagree the model is unsure. When the pixels lose a thing, the dream draws it "
                        "again where the state puts it, and the planner imagines its thousands of futures in this state."
                    </p>
                </li>
                <li class="panel">
                    <h2>"5. The next frame"</h2>
                    <div class="explain-row">
                        <figure>
                            <Picture node_ref=next_frame size=64 test_id="explain-next-frame" label="The model's next frame" />
                            <figcaption>"the model's next frame"</figcaption>
                        </figure>
                        <figure>
                            <Picture node_ref=truth_frame size=64 test_id="explain-truth" label="The simulator's frame after the same move" />
                            <figcaption>"the simulator, same move"</figcaption>
                        </figure>
                    </div>
                    <p class="note">
                        "Each pixel takes its likeliest colour (at temperature 0; above, one is drawn at random), "
                        "and objects are kept whole. The next step starts from this picture, so small errors can grow."
                    </p>
                </li>
            </ol>
        </section>
    }
}
