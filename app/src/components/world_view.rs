use leptos::html::Canvas;
use leptos::prelude::*;
use web_sys::PointerEvent;

use crate::controls::canvas_to_world;
use crate::session::WORLD_VIEW_SIZE;

/// The world as people see it. Pressing and holding on it steers the agent toward the pointer
/// (mouse, pen or finger).
#[component]
pub fn WorldView(
    /// The canvas the stage paints the world into.
    canvas: NodeRef<Canvas>,
    /// One line about the scene, e.g. "Top-down table · 3 objects · 1 goal zone".
    #[prop(into)]
    scene: Signal<String>,
    /// The scene in the world's language, e.g. "seen from above, two red balls".
    #[prop(into)]
    words: Signal<String>,
    /// Where the pointer is held, in world units, or `None` once it is let go.
    #[prop(into)]
    on_pointer: UnsyncCallback<Option<[f32; 2]>>,
) -> impl IntoView {
    let held = RwSignal::new(false);
    // The canvas may be shown smaller than its pixels (phones): measure it on every event.
    let to_world = move |event: &PointerEvent| {
        let element = canvas.get_untracked()?;
        let rect = element.get_bounding_client_rect();
        let offset = [
            event.client_x() as f64 - rect.left(),
            event.client_y() as f64 - rect.top(),
        ];
        Some(canvas_to_world(
            [offset[0] as f32, offset[1] as f32],
            [rect.width() as f32, rect.height() as f32],
        ))
    };
    let let_go = move |_| {
        if held.get_untracked() {
            held.set(false);
            on_pointer.run(None);
        }
    };
    view! {
        <figure class="world-view">
            <canvas
                node_ref=canvas
                data-testid="world-canvas"
                width=WORLD_VIEW_SIZE.to_string()
                height=WORLD_VIEW_SIZE.to_string()
                role="img"
                aria-label="The world. Press and hold to steer the agent toward the pointer."
                on:pointerdown=move |event| {
                    if event.button() != 0 {
                        return;
                    }
                    event.prevent_default();
                    if let Some(element) = canvas.get_untracked() {
                        // Keep receiving moves and the release even outside the canvas.
                        let _ = element.set_pointer_capture(event.pointer_id());
                    }
                    held.set(true);
                    on_pointer.run(to_world(&event));
                }
                on:pointermove=move |event| {
                    if held.get_untracked() {
                        on_pointer.run(to_world(&event));
                    }
                }
                on:pointerup=let_go
                on:pointercancel=let_go
                on:lostpointercapture=let_go
            ></canvas>
            <figcaption>
                <p class="scene-description" data-testid="scene-description">{scene}</p>
                <p class="scene-words">
                    <span class="field-label">"In words"</span>
                    " "
                    <q data-testid="scene-words">{words}</q>
                </p>
            </figcaption>
        </figure>
    }
}
