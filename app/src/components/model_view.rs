use leptos::html::Canvas;
use leptos::prelude::*;

use crate::session::MODEL_VIEW_SIZE;

/// The same moment as the model sees it: 64×64 pixels, enlarged without smoothing.
#[component]
pub fn ModelView(
    /// The canvas the stage paints the model's frame into.
    canvas: NodeRef<Canvas>,
) -> impl IntoView {
    view! {
        <figure class="panel model-view">
            <canvas
                node_ref=canvas
                data-testid="model-canvas"
                width=MODEL_VIEW_SIZE.to_string()
                height=MODEL_VIEW_SIZE.to_string()
                role="img"
                aria-label="The same moment at 64 by 64 pixels, as the model sees it"
            ></canvas>
            <figcaption>
                <strong>"What the model sees"</strong>
                <span>{format!("{MODEL_VIEW_SIZE} × {MODEL_VIEW_SIZE} pixels, every frame")}</span>
            </figcaption>
        </figure>
    }
}
