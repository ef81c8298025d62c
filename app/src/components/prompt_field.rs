use leptos::html;
use leptos::prelude::*;

/// Example shown in the empty box and under it: one sentence the world's language can read.
const EXAMPLE: &str = "a red ball to the left of a big blue box";

/// The prompt box: describe a scene in a sentence and press Enter (or "Make scene") to build
/// it; "Random scene" goes back to the seed's own scene. A sentence that cannot be read is
/// explained under the box, and stays in it to be corrected.
#[component]
pub fn PromptField(
    /// The sentence the scene on show was made from, if it was made from one.
    #[prop(into)]
    prompt: Signal<Option<String>>,
    /// Why the last sentence did not become a scene, if it did not.
    #[prop(into)]
    problem: Signal<Option<String>>,
    /// "Make scene" was pressed: the text as typed.
    #[prop(into)]
    on_prompt: UnsyncCallback<String>,
    /// "Random scene" was pressed.
    #[prop(into)]
    on_clear: UnsyncCallback<()>,
) -> impl IntoView {
    let input = NodeRef::<html::Input>::new();
    view! {
        <form
            class="prompt-field"
            data-testid="prompt-form"
            on:submit=move |event| {
                event.prevent_default();
                if let Some(input) = input.get_untracked() {
                    on_prompt.run(input.value());
                }
            }
        >
            <label class="prompt-label">
                <span class="field-label">"Describe a scene"</span>
                <input
                    type="text"
                    enterkeyhint="go"
                    autocomplete="off"
                    spellcheck="false"
                    class="prompt-input"
                    data-testid="prompt-input"
                    placeholder=EXAMPLE
                    node_ref=input
                    prop:value=move || prompt.get().unwrap_or_default()
                    aria-invalid=move || if problem.read().is_some() { "true" } else { "false" }
                    aria-describedby="prompt-message"
                />
            </label>
            <button type="submit" class="button button-primary" data-testid="make-scene">
                "Make scene"
            </button>
            <button
                type="button"
                class="button"
                data-testid="random-scene"
                title="Forget the sentence and show the seed's own scene"
                on:click=move |_| {
                    if let Some(input) = input.get_untracked() {
                        input.set_value("");
                    }
                    on_clear.run(());
                }
            >
                "Random scene"
            </button>
            <div class="prompt-message" id="prompt-message">
                <p class="prompt-problem" data-testid="prompt-problem" role="alert">
                    {move || problem.get()}
                </p>
                <Show when=move || problem.read().is_none()>
                    <p class="prompt-hint">
                        "Try " <q>"seen from the side, two yellow boxes and a green zone on the right"</q>
                        ". Six colours, balls and boxes, small or big, left of, right of, above, below, "
                        "and green or pink zones."
                    </p>
                </Show>
            </div>
        </form>
    }
}
