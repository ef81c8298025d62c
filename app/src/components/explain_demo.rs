use std::cell::RefCell;
use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use runtime::Inside;
use world::action::{Action, DISCRETE_NAMES};
use world::render::{Renderer, FRAME_SIZE};
use world::scene::Scene;
use world::sim::Simulator;

use crate::browser::paint;
use crate::components::ModelBox;
use crate::dream::rgb_to_rgba;
use crate::dreamer::{Dreamer, ModelStatus};
use crate::explain::{default_query, heat, latent_colours, looks, patch_at, token, Token};

/// Where the model stands in the explainer: its two context frames, the true world beside it.
struct Walk {
    sim: Simulator,
    scene: Scene,
    renderer: Renderer,
    /// The model's context: the frame before and the frame now (its own dreams after a step).
    context: [Vec<u8>; 2],
    /// The simulator's frame now, taking the same actions.
    truth: Vec<u8>,
    /// The frame the last pass read (shown in stage 1 beside that pass's insides).
    read: Option<Vec<u8>>,
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
) -> impl IntoView {
    view! {
        <canvas
            node_ref=node_ref
            class="explain-picture"
            data-testid=test_id
            width=size.to_string()
            height=size.to_string()
            role="img"
            aria-label=label
        ></canvas>
    }
}

/// For educators: one model pass at a time, opened up. A frame becomes tokens, the tokens and
/// the action make the sequence the transformer reads, its attention shows where each token
/// looks, and the next frame's sampled tokens are decoded back into pixels. The step button
/// runs one pass and the model goes on from its own frame.
#[component]
pub fn ExplainDemo(
    dreamer: Dreamer,
    #[prop(into)] seed: Signal<u64>,
    #[prop(default = true)] show_temperature: bool,
) -> impl IntoView {
    let view = dreamer.view;
    let walk: Rc<RefCell<Option<Walk>>> = Rc::new(RefCell::new(None));
    let inside = RwSignal::new_local(None::<Rc<Inside>>);
    let problem = RwSignal::new(None::<String>);
    let action = RwSignal::new(1u8);
    let temperature = RwSignal::new(0.2f32);
    let layer = RwSignal::new(usize::MAX); // the last layer
    let head = RwSignal::new(None::<usize>);
    let query = RwSignal::new(None::<usize>); // a token; default: a patch of the current frame
    let steps = RwSignal::new(0u32);
    let busy = RwSignal::new(false);

    let frame_canvas: NodeRef<Canvas> = NodeRef::new();
    let tokens_canvas: NodeRef<Canvas> = NodeRef::new();
    let prev_heat: NodeRef<Canvas> = NodeRef::new();
    let cur_heat: NodeRef<Canvas> = NodeRef::new();
    let next_tokens: NodeRef<Canvas> = NodeRef::new();
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
            steps.set(0);
        }
    });

    // The pictures of the current pass.
    Effect::new({
        let walk = walk.clone();
        move |_| {
            let ins = inside.get();
            let (l, h, q) = (layer.get(), head.get(), query.get());
            let _ = steps.get();
            let w = walk.borrow();
            let Some(w) = w.as_ref() else { return };
            show(
                frame_canvas,
                &rgb_to_rgba(w.read.as_ref().unwrap_or(&w.context[1])),
                FRAME_SIZE,
            );
            show(truth_frame, &rgb_to_rgba(&w.truth), FRAME_SIZE);
            let Some(ins) = ins else { return };
            let p = ins.grid * ins.grid;
            let g = ins.grid as u32;
            show(tokens_canvas, &latent_colours(&ins.cur, p, ins.latent), g);
            show(next_tokens, &latent_colours(&ins.sample, p, ins.latent), g);
            show(next_frame, &rgb_to_rgba(&ins.frame), FRAME_SIZE);
            let layer = l.min(ins.attention.len().saturating_sub(1));
            let q = q.unwrap_or(default_query(ins.grid));
            let a = looks(&ins.attention, ins.heads, ins.tokens, layer, h, q);
            show(prev_heat, &heat(&a[..p]), g);
            show(cur_heat, &heat(&a[p..2 * p]), g);
        }
    });

    let run_step = {
        let walk = walk.clone();
        let dreamer = dreamer.clone();
        move || {
            let Some((context, step)) = walk.borrow().as_ref().map(|w| (w.context.clone(), w.step))
            else {
                return;
            };
            let a = action.get_untracked();
            let t = temperature.get_untracked();
            let seed32 = seed.get_untracked() as u32;
            let walk = walk.clone();
            busy.set(true);
            let started = dreamer.run_job(move |mut rt| async move {
                match rt
                    .explain([&context[0], &context[1]], a, t, seed32, step)
                    .await
                {
                    Ok(ins) => {
                        if let Some(w) = walk.borrow_mut().as_mut() {
                            // The model goes on from its own frame; the world takes the same move.
                            w.read = Some(w.context[1].clone());
                            w.context = [w.context[1].clone(), ins.frame.clone()];
                            w.sim.step(Action::from_discrete(a));
                            w.truth = w.renderer.draw_rgb(&w.scene, &w.sim.state());
                            w.step += 1;
                        }
                        inside.set(Some(Rc::new(ins)));
                        steps.update(|s| *s += 1);
                    }
                    Err(e) => problem.set(Some(format!("The pass failed: {e}"))),
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

    let pick_query = move |ev: leptos::ev::MouseEvent, offset: usize| {
        let Some(ins) = inside.get_untracked() else {
            return;
        };
        let Some(el) = ev
            .current_target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
        else {
            return;
        };
        let r = el.get_bounding_client_rect();
        let x = (ev.client_x() as f64 - r.left()) / r.width() * 64.0;
        let y = (ev.client_y() as f64 - r.top()) / r.height() * 64.0;
        if let Some(i) = patch_at(x, y, 64.0, ins.grid) {
            query.set(Some(offset + i));
        }
    };

    // The arrow keys move the asking patch over the frame now.
    let move_query = move |ev: leptos::ev::KeyboardEvent| {
        let Some(ins) = inside.get_untracked() else {
            return;
        };
        let (p, grid) = (ins.grid * ins.grid, ins.grid);
        let q = query.get_untracked().unwrap_or(default_query(grid));
        let Token::Cur(i) = token(q, p) else {
            query.set(Some(p));
            return;
        };
        let (row, col) = (i / grid, i % grid);
        let (row, col) = match ev.key().as_str() {
            "ArrowLeft" => (row, col.saturating_sub(1)),
            "ArrowRight" => (row, (col + 1).min(grid - 1)),
            "ArrowUp" => (row.saturating_sub(1), col),
            "ArrowDown" => ((row + 1).min(grid - 1), col),
            _ => return,
        };
        ev.prevent_default();
        query.set(Some(p + row * grid + col));
    };

    let ready = move || matches!(view.status.get(), ModelStatus::Ready(_));
    let query_text = move || {
        inside.get().map(|ins| {
            let p = ins.grid * ins.grid;
            let q = query.get().unwrap_or(default_query(ins.grid));
            token(q, p).describe(ins.grid)
        })
    };
    let special = move |which: Token| {
        inside.get().map(|ins| {
            let p = ins.grid * ins.grid;
            let q = query.get().unwrap_or(default_query(ins.grid));
            let layer = layer.get().min(ins.attention.len().saturating_sub(1));
            let a = looks(&ins.attention, ins.heads, ins.tokens, layer, head.get(), q);
            let t = if which == Token::Action {
                2 * p
            } else {
                2 * p + 1
            };
            format!("{:.1}%", a[t] * 100.0)
        })
    };

    view! {
        <section class="demo explain-demo" data-testid="explain-demo" aria-label="How the model works, step by step">
            <div class="demo-intro">
                <p>
                    "What happens inside one step of the dream. Press Step: the model reads two frames and a move, "
                    "and writes the next frame. Then it goes on from its own picture, as in the Dream."
                </p>
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
                    "Step: one model pass"
                </button>
                <span data-testid="explain-steps">{move || format!("{} passes", steps.get())}</span>
            </div>
            <ol class="explain-stages">
                <li class="panel">
                    <h2>"1. A frame becomes tokens"</h2>
                    <div class="explain-row">
                        <figure>
                            <Picture node_ref=frame_canvas size=64 test_id="explain-frame" label="The frame the model sees now" />
                            <figcaption>"The frame now (64 × 64)"</figcaption>
                        </figure>
                        <figure>
                            <Picture node_ref=tokens_canvas size=8 test_id="explain-tokens" label="Its tokens as colours" />
                            <figcaption>"Its 8 × 8 tokens"</figcaption>
                        </figure>
                    </div>
                    <p class="note">
                        "The frame is cut into 8 × 8 patches. An encoder turns each patch into a token: a short list "
                        "of numbers (its first three are shown as a colour). Similar patches get similar tokens."
                    </p>
                </li>
                <li class="panel">
                    <h2>"2. The sequence the transformer reads"</h2>
                    <div class="sequence" data-testid="explain-sequence" aria-label="The sequence of tokens">
                        <span class="seq prev">"64 tokens of the previous frame"</span>
                        <span class="seq cur">"64 tokens of the frame now"</span>
                        <span class="seq act">{move || format!("the move: {}", DISCRETE_NAMES[action.get() as usize])}</span>
                        <span class="seq sum">"summary"</span>
                    </div>
                    <p class="note">
                        "Two frames and the move make one sequence of 130 tokens. Each token also carries where it "
                        "sits (its position and which frame it came from). The summary token gathers the state of "
                        "the world, which the planner uses."
                    </p>
                </li>
                <li class="panel">
                    <h2>"3. Where the model looks"</h2>
                    <div class="explain-row">
                        <figure>
                            <Picture node_ref=prev_heat size=8 test_id="explain-attention-prev" label="Attention over the previous frame" />
                            <figcaption>"previous frame"</figcaption>
                        </figure>
                        <figure
                            tabindex="0"
                            data-testid="explain-query-picker"
                            aria-label="Which patch of the frame now asks: click one, or move with the arrow keys"
                            on:click=move |ev| pick_query(ev, 64)
                            on:keydown=move |ev| move_query(ev)
                        >
                            <Picture node_ref=cur_heat size=8 test_id="explain-attention-cur" label="Attention over the frame now; click a patch to ask where it looks" />
                            <figcaption>"frame now (click a patch, or arrow keys)"</figcaption>
                        </figure>
                        <div class="attention-side">
                            <p>"the move: " <strong data-testid="attention-action">{move || special(Token::Action)}</strong></p>
                            <p>"summary: " <strong>{move || special(Token::Summary)}</strong></p>
                            <label>
                                "Layer "
                                <select on:change=move |ev| layer.set(event_target_value(&ev).parse().unwrap_or(usize::MAX))>
                                    {move || {
                                        let n = inside.get().map(|i| i.attention.len()).unwrap_or(1);
                                        (0..n).rev().map(|l| view! { <option value=l.to_string()>{format!("{} of {n}", l + 1)}</option> }).collect_view()
                                    }}
                                </select>
                            </label>
                            <label>
                                "Head "
                                <select on:change=move |ev| head.set(event_target_value(&ev).parse().ok())>
                                    <option value="all">"all, averaged"</option>
                                    {move || {
                                        let n = inside.get().map(|i| i.heads).unwrap_or(0);
                                        (0..n).map(|h| view! { <option value=h.to_string()>{format!("{}", h + 1)}</option> }).collect_view()
                                    }}
                                </select>
                            </label>
                        </div>
                    </div>
                    <p class="note">
                        "Each token decides which others to read, by attention. Brighter squares: where the token "
                        <strong data-testid="explain-query">{query_text}</strong>
                        " looks. Patches near moving things usually look at the same place in the previous frame, "
                        "to see how it moved."
                    </p>
                </li>
                <li class="panel">
                    <h2>"4. Next tokens turn back into a frame"</h2>
                    <div class="explain-row">
                        <figure>
                            <Picture node_ref=next_tokens size=8 test_id="explain-next-tokens" label="The sampled next tokens" />
                            <figcaption>"sampled next tokens"</figcaption>
                        </figure>
                        <figure>
                            <Picture node_ref=next_frame size=64 test_id="explain-next-frame" label="The next frame, decoded" />
                            <figcaption>"decoded: the model's next frame"</figcaption>
                        </figure>
                        <figure>
                            <Picture node_ref=truth_frame size=64 test_id="explain-truth" label="The simulator's frame after the same move" />
                            <figcaption>"the simulator, same move"</figcaption>
                        </figure>
                    </div>
                    <p class="note">
                        "For each patch the model predicts a token (a mean and a spread); one is drawn at the chosen "
                        "temperature (0: the most likely). A decoder turns the tokens back into pixels. The next step "
                        "starts from this picture, so small errors can grow."
                    </p>
                </li>
            </ol>
        </section>
    }
}
