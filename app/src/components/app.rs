use leptos::prelude::*;

use crate::browser::{read_page_state, write_page_state};
use crate::components::Playground;
use crate::url_state::PageState;

/// The page: starts from the seed, prompt, speed and pause state in the address bar and keeps the
/// address in step with them, so a copied link shows the same scene.
#[component]
pub fn App() -> impl IntoView {
    let (initial, problems) = read_page_state();
    let notices: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let remember = |state: PageState| {
        if let Err(error) = write_page_state(&state) {
            leptos::logging::warn!("{error}");
        }
    };
    // Write back what is shown (defaults filled in, bad values replaced) so the address is a
    // link to this very scene from the start.
    remember(initial.clone());
    view! { <Playground initial notices on_change=Callback::new(remember) /> }
}
