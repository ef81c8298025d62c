use leptos::prelude::*;

use crate::dreamer::{DreamView, ModelStatus};

/// One box of fixed height for everything about the model that comes and goes (loading with
/// its progress bar, a failure, the processor banner, notices), so the page never jumps when
/// the model is ready. Every demo shows it.
#[component]
pub fn ModelBox(
    view: DreamView,
    /// What the model does once ready, as in "Dreaming on the CPU."
    verb: &'static str,
) -> impl IntoView {
    let status = view.status;
    view! {
        <div class="dream-status">
            <p data-testid="model-status">
                {move || match status.get() {
                    ModelStatus::Loading(step) => step.describe(),
                    ModelStatus::Ready(backend) => format!("{verb} on the {backend}."),
                    ModelStatus::Failed(problem) => format!("The model could not start: {problem}"),
                }}
            </p>
            {move || match status.get() {
                ModelStatus::Loading(step) => Some(view! {
                    <progress
                        data-testid="model-progress"
                        max="1"
                        value=step.fraction().to_string()
                        aria-label="Loading the model"
                    ></progress>
                }.into_any()),
                ModelStatus::Failed(_) => Some(view! {
                    <p class="error-text" role="alert" data-testid="model-error">
                        "The simulator keeps running without the model. Reload the page to try again."
                    </p>
                }.into_any()),
                ModelStatus::Ready(_) => None,
            }}
            {move || view.fallback.get().map(|reason| view! {
                <p class="banner" role="status" data-testid="cpu-banner">
                    "Not on a GPU: " {reason.clone()} ". Chrome and Edge 113+ and Safari 26 run it on "
                    "the GPU (on Linux, turn WebGPU on in chrome://flags)."
                    {reason.contains("software").then_some(
                        " To watch the WGSL kernels run on the software adapter anyway, add backend=webgpu to the address."
                    )}
                </p>
            })}
            {move || view.notice.get().map(|notice| view! {
                <p class="banner" role="status" data-testid="model-notice">{notice}</p>
            })}
        </div>
    }
}
