use leptos::prelude::*;
use world::sim::FPS;

/// Frame counter, simulated time and the move being asked of the agent.
#[component]
pub fn Readout(
    /// Frames stepped since the scene started.
    #[prop(into)]
    frame: Signal<u32>,
    /// The move being asked of the agent, e.g. "north-east".
    #[prop(into)]
    steering: Signal<&'static str>,
) -> impl IntoView {
    view! {
        <dl class="readout">
            <div>
                <dt>"Frame"</dt>
                <dd><output data-testid="frame-counter">{frame}</output></dd>
            </div>
            <div>
                <dt>"Time"</dt>
                <dd data-testid="sim-time">{move || format!("{:.1} s", frame.get() as f32 / FPS)}</dd>
            </div>
            <div>
                <dt>"Move"</dt>
                <dd data-testid="steering">{steering}</dd>
            </div>
        </dl>
    }
}
