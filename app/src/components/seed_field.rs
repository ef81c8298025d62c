use leptos::html;
use leptos::prelude::*;

use crate::url_state::parse_seed;

/// The seed box: type a seed and press Enter (or leave the box) to build its scene, or ask for
/// a new random one. A seed that cannot be used is explained under the box.
#[component]
pub fn SeedField(
    /// The seed of the scene on show.
    #[prop(into)]
    seed: Signal<u64>,
    /// A valid seed was entered.
    #[prop(into)]
    on_seed: UnsyncCallback<u64>,
    /// "New scene" was pressed.
    #[prop(into)]
    on_random: UnsyncCallback<()>,
) -> impl IntoView {
    let input = NodeRef::<html::Input>::new();
    let problem = RwSignal::new(None::<String>);
    let apply = move || {
        let Some(input) = input.get_untracked() else {
            return;
        };
        match parse_seed(&input.value()) {
            Ok(value) => {
                problem.set(None);
                on_seed.run(value);
            }
            Err(message) => problem.set(Some(format!(
                "{message}. Seeds are whole numbers, like 42."
            ))),
        }
    };
    view! {
        <form
            class="seed-field"
            on:submit=move |event| {
                event.prevent_default();
                apply();
            }
        >
            <label class="seed-label">
                <span class="field-label">"Seed"</span>
                <input
                    type="text"
                    inputmode="numeric"
                    autocomplete="off"
                    spellcheck="false"
                    class="seed-input"
                    data-testid="seed-input"
                    node_ref=input
                    prop:value=move || seed.get().to_string()
                    aria-invalid=move || if problem.read().is_some() { "true" } else { "false" }
                    on:change=move |_| apply()
                />
            </label>
            <button
                type="button"
                class="button"
                data-testid="random-seed"
                on:click=move |_| {
                    problem.set(None);
                    on_random.run(());
                }
            >
                "New scene"
            </button>
            <p class="field-problem" data-testid="seed-problem" aria-live="polite">
                {move || problem.get()}
            </p>
        </form>
    }
}
