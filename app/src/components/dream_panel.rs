use leptos::html::Canvas;
use leptos::prelude::*;

use crate::components::ModelBox;
use crate::dream::Score;
use world::scores::PSNR_CAP;
use crate::dreamer::{DreamView, Dreamer, ModelStatus};
use crate::session::MODEL_VIEW_SIZE;

/// PSNR shown at the top of the plot; identical frames (capped PSNR) are drawn there.
const PLOT_TOP_DB: f32 = 50.0;
/// Object error shown at the top of the plot: half the frame; larger errors (a lost object
/// costs the frame's diagonal) are drawn there.
const OBJECT_PLOT_TOP_PX: f32 = 32.0;
const PLOT_W: f32 = 240.0;
const PLOT_H: f32 = 64.0;

/// The model's dream beside the world: its frame, how far it is from the truth step by step,
/// its temperature and how often it resyncs with reality; and, until it is ready, the loading
/// bar. Says which processor runs the model and why, when it is not a GPU.
#[component]
pub fn DreamPanel(
    /// The canvas the dream is painted into.
    canvas: NodeRef<Canvas>,
    dreamer: Dreamer,
    /// The scene in the world's language, which the model can draw as a first frame.
    #[prop(into)]
    scene_words: Signal<String>,
    /// Which controls are shown (a lesson link can hide them).
    #[prop(default = true)]
    show_temperature: bool,
    #[prop(default = true)] show_resync: bool,
    #[prop(default = true)] show_draw: bool,
) -> impl IntoView {
    let view: DreamView = dreamer.view;
    let status = view.status;
    let on_resync = {
        let dreamer = dreamer.clone();
        move |ev| {
            let every = event_target_value(&ev).parse().unwrap_or(0);
            dreamer.set_resync(every);
        }
    };
    view! {
        <figure class="panel dream-view" data-testid="dream-panel">
            <canvas
                node_ref=canvas
                data-testid="dream-canvas"
                width=MODEL_VIEW_SIZE.to_string()
                height=MODEL_VIEW_SIZE.to_string()
                role="img"
                aria-label="The model's dream of the same moment, 64 by 64 pixels"
            ></canvas>
            <figcaption>
                <strong>"What the model imagines"</strong>
                <span title="At temperature 0 the dream shows the most likely picture: where the model is unsure where the agent has got to, the agent is drawn spread over the places it may be; above 0, one sampled future">
                    "64 × 64 pixels, dreamed from your moves"
                </span>
            </figcaption>
            <ModelBox view=view verb="Dreaming" />
            <div class="dream-controls">
                {show_temperature.then(|| view! { <label>
                    "Temperature "
                    <input
                        type="range"
                        min="0"
                        max="1.5"
                        step="0.1"
                        data-testid="temperature"
                        prop:value=move || view.temperature.get().to_string()
                        on:input=move |ev| {
                            if let Ok(t) = event_target_value(&ev).parse::<f32>() {
                                view.temperature.set((t.clamp(0.0, 1.5) * 10.0).round() / 10.0);
                            }
                        }
                    />
                    <output>{move || format!("{:.1}", view.temperature.get())}</output>
                </label> })}
                {show_draw.then(|| view! { <button
                    type="button"
                    class="button"
                    data-testid="draw-from-words"
                    title="The model draws the scene's first frame from its description, then dreams on from its own picture"
                    disabled=move || !matches!(status.get(), ModelStatus::Ready(_))
                    on:click={
                        let dreamer = dreamer.clone();
                        move |_| dreamer.draw_from_words(&scene_words.get_untracked())
                    }
                >
                    "Draw it from the words"
                </button> })}
                {show_resync.then(|| view! { <label>
                    "Follow reality "
                    <select data-testid="resync" on:change=on_resync prop:value=move || view.resync.get().to_string()>
                        <option value="0">"never: dream freely"</option>
                        <option value="5">"every 5 frames"</option>
                        <option value="15">"every 15 frames"</option>
                        <option value="30">"every 30 frames"</option>
                    </select>
                </label> })}
            </div>
            <PsnrPlot scores=view.scores behind=view.behind skipped=view.skipped />
        </figure>
    }
}

/// PSNR of each dreamed frame against the true one (higher is closer) and the objects' mean
/// distance from where they truly are (lower is closer), newest on the right.
#[component]
fn PsnrPlot(
    scores: RwSignal<Vec<Score>>,
    behind: RwSignal<usize>,
    skipped: RwSignal<u32>,
) -> impl IntoView {
    // x across the plot, y from a value with `top` drawn at the top edge.
    let line = move |value: fn(&Score) -> f32, top: f32| {
        let s = scores.get();
        let n = s.len().max(2) as f32;
        s.iter()
            .enumerate()
            .filter(|(_, score)| !value(score).is_nan())
            .map(|(i, score)| {
                let v = value(score);
                let v = if v.is_finite() {
                    v.clamp(0.0, top)
                } else {
                    top
                };
                format!(
                    "{:.1},{:.1}",
                    i as f32 * PLOT_W / (n - 1.0),
                    PLOT_H - v / top * PLOT_H
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let latest = move || {
        let Some(s) = scores.get().last().copied() else {
            return "no step yet".to_string();
        };
        let psnr = if s.psnr < PSNR_CAP as f32 {
            format!("{:.1} dB", s.psnr)
        } else {
            "identical".into()
        };
        match s.object_px.is_nan() {
            true => psnr,
            false => format!("{psnr}, objects {:.1} px off", s.object_px),
        }
    };
    view! {
        <div class="psnr-plot">
            <svg
                viewBox=format!("0 0 {PLOT_W} {PLOT_H}")
                role="img"
                aria-label="At each step: PSNR of the dream against the simulator (solid, higher is closer) and the objects' distance from where they are (dashed, lower is closer)"
                data-testid="psnr-plot"
            >
                <polyline class="psnr" points=move || line(|s| s.psnr, PLOT_TOP_DB) fill="none" stroke="currentColor" stroke-width="1.5"></polyline>
                <polyline class="object-error" data-testid="object-error-line" points=move || line(|s| s.object_px, OBJECT_PLOT_TOP_PX) fill="none" stroke="currentColor" stroke-width="1" stroke-dasharray="3 2" opacity="0.7"></polyline>
            </svg>
            <p>
                "Closeness to the truth: "
                <output data-testid="psnr-latest">{latest}</output>
                {move || (behind.get() > 1).then(|| format!(" · {} frames behind", behind.get()))}
                {move || (skipped.get() > 0).then(|| view! {
                    <span data-testid="dream-skipped" title="The model here imagines fewer frames a second than the simulator shows; the dream starts again from the true frame after each skip.">
                        {format!(" · {} skipped: the model runs slower than the simulator on this device", skipped.get())}
                    </span>
                })}
            </p>
        </div>
    }
}
