use leptos::prelude::*;

use crate::results::Row;

/// The shipped model's evaluation numbers, each beside its baseline, as measured (shown once
/// the model has loaded; nothing before).
#[component]
pub fn ResultsPanel(
    /// Rows from the manifest's evaluation.
    #[prop(into)]
    rows: Signal<Vec<Row>>,
) -> impl IntoView {
    move || {
        let rows = rows.get();
        (!rows.is_empty()).then(|| {
            view! {
                <section class="panel results" data-testid="results-panel" aria-label="How well this model does">
                    <h2>"How well this model does"</h2>
                    <p class="hint">
                        "Measured on held-out episodes when the weights were exported, beside a simple baseline. "
                        "Its dreams beat copying the last frame and its plans reach most goals; its answers are still mostly the most common one."
                    </p>
                    <table>
                        <thead>
                            <tr><th scope="col">"Measure"</th><th scope="col">"Model"</th><th scope="col">"Baseline"</th></tr>
                        </thead>
                        <tbody>
                            {rows
                                .into_iter()
                                .map(|r| view! { <tr><th scope="row">{r.what}</th><td>{r.model}</td><td>{r.baseline}</td></tr> })
                                .collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        })
    }
}
