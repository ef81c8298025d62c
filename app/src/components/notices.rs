use leptos::prelude::*;

/// Messages about the address the page was opened with, each dismissable. Shown as text:
/// they may quote whatever was in the address.
#[component]
pub fn Notices(
    /// One sentence each, e.g. `speed: "fast" is not a number; running at normal speed (1x)`.
    notices: Vec<String>,
) -> impl IntoView {
    let shown = RwSignal::new(notices.into_iter().enumerate().collect::<Vec<_>>());
    view! {
        <Show when=move || !shown.read().is_empty()>
            <ul class="notices" data-testid="url-notices" role="status" aria-label="Problems with the address">
                <For
                    each=move || shown.get()
                    key=|(index, _)| *index
                    children=move |(index, text)| {
                        view! {
                            <li class="notice">
                                <span class="notice-text">{text}</span>
                                <button
                                    type="button"
                                    class="notice-dismiss"
                                    aria-label="Dismiss this message"
                                    on:click=move |_| shown.update(|all| all.retain(|(i, _)| *i != index))
                                >
                                    "×"
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
        </Show>
    }
}
