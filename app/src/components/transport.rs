use leptos::prelude::*;

use crate::url_state::{speed_label, SPEEDS};

/// Play / pause, step, reset, and the choice of speed.
#[component]
pub fn Transport(
    /// Whether the simulation waits for the step button.
    #[prop(into)]
    paused: Signal<bool>,
    /// The speed multiplier in use, one of [`SPEEDS`].
    #[prop(into)]
    speed: Signal<f32>,
    /// Play or pause was pressed.
    #[prop(into)]
    on_toggle: UnsyncCallback<()>,
    /// Step was pressed: advance one frame, pausing first.
    #[prop(into)]
    on_step: UnsyncCallback<()>,
    /// Reset was pressed: back to frame 0 of the same scene.
    #[prop(into)]
    on_reset: UnsyncCallback<()>,
    /// A speed was chosen.
    #[prop(into)]
    on_speed: UnsyncCallback<f32>,
) -> impl IntoView {
    let options = SPEEDS.map(|value| {
        view! {
            <option value=speed_label(value) prop:selected=move || speed.get() == value>
                {format!("{}×", speed_label(value))}
            </option>
        }
    });
    view! {
        <div class="transport" role="group" aria-label="Simulation">
            <button
                type="button"
                class="button button-primary play-pause"
                data-testid="play-pause"
                aria-keyshortcuts="Space"
                on:click=move |_| on_toggle.run(())
            >
                <span class="icon" aria-hidden="true">{move || if paused.get() { "▶" } else { "❚❚" }}</span>
                <span>{move || if paused.get() { "Play" } else { "Pause" }}</span>
            </button>
            <button
                type="button"
                class="button"
                data-testid="step-button"
                aria-keyshortcuts="."
                on:click=move |_| on_step.run(())
            >
                <span class="icon" aria-hidden="true">"▸|"</span>
                <span>"Step"</span>
            </button>
            <button type="button" class="button" data-testid="reset-button" on:click=move |_| on_reset.run(())>
                <span class="icon" aria-hidden="true">"↺"</span>
                <span>"Reset"</span>
            </button>
            <label class="speed">
                <span class="field-label">"Speed"</span>
                <select
                    data-testid="speed-select"
                    on:change=move |event| {
                        if let Ok(value) = event_target_value(&event).parse::<f32>() {
                            on_speed.run(value);
                        }
                    }
                >
                    {options}
                </select>
            </label>
        </div>
    }
}
