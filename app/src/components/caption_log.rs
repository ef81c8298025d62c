use leptos::prelude::*;
use world::sim::FPS;

use crate::session::LogLine;

/// The caption of the episode so far, and each event in words as it happens, newest first.
#[component]
pub fn CaptionLog(
    /// Caption of the whole episode so far.
    #[prop(into)]
    caption: Signal<String>,
    /// Event sentences, newest first.
    #[prop(into)]
    lines: Signal<Vec<LogLine>>,
) -> impl IntoView {
    view! {
        <section class="panel events" aria-labelledby="events-title">
            <h2 id="events-title">"What happened"</h2>
            <figure class="episode-caption">
                <figcaption class="field-label">"Caption of the episode so far"</figcaption>
                <p data-testid="episode-caption">{caption}</p>
            </figure>
            <ol class="log" data-testid="caption-log" aria-live="polite" aria-label="Events, newest first">
                <Show when=move || lines.read().is_empty()>
                    <li class="log-empty">"Events appear here as they happen. Push something!"</li>
                </Show>
                <For
                    each=move || lines.get()
                    key=|line| (line.frame, line.text.clone(), line.count)
                    children=|line| {
                        view! {
                            <li class="log-line">
                                <span class="log-time">{format!("{:.1} s", line.frame as f32 / FPS)}</span>
                                <span class="log-text">{line.text}</span>
                                {(line.count > 1).then(|| view! { <span class="log-count">{format!("×{}", line.count)}</span> })}
                            </li>
                        }
                    }
                />
            </ol>
        </section>
    }
}
