use leptos::prelude::*;

use crate::browser::{read_page_state, write_page_state};
use crate::components::{AskDemo, ExplainDemo, Notices, PlanDemo, Playground, ResultsPanel};
use crate::dreamer::Dreamer;
use crate::url_state::{Demo, PageState};

/// The page: one shared layout (title, tabs, notices, the results panel) around the demo the
/// address names, and one model shared by all demos, loaded once. Starts from the state in the
/// address bar and keeps the address in step with it, so a copied link shows the same page.
#[component]
pub fn App() -> impl IntoView {
    let (initial, problems) = read_page_state();
    let notices: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let page = RwSignal::new(initial.clone());
    // Write back what is shown (defaults filled in, bad values replaced) so the address is a
    // link to this very page from the start, and again at every change.
    Effect::new(move |_| {
        if let Err(error) = write_page_state(&page.get()) {
            leptos::logging::warn!("{error}");
        }
    });

    let dream_canvas = NodeRef::new();
    let dreamer = Dreamer::new(
        dream_canvas,
        initial.temperature,
        initial.resync,
        initial.backend,
    );
    let rollouts = RwSignal::new(initial.rollouts);
    let horizon = RwSignal::new(initial.horizon);
    Effect::new(move |_| {
        let (n, h) = (rollouts.get(), horizon.get());
        page.update(|p| {
            p.rollouts = n;
            p.horizon = h;
        });
    });

    // The Dream's own state (seed, prompt, speed, pause, dream settings) comes back from it;
    // what only the page knows stays.
    let on_change = Callback::new(move |state: PageState| {
        page.update(|p| {
            *p = PageState {
                demo: p.demo,
                rollouts: p.rollouts,
                horizon: p.horizon,
                backend: p.backend,
                hide: p.hide.clone(),
                ..state
            }
        })
    });
    let demo = Memo::new(move |_| page.read().demo);
    let seed = Signal::derive(move || page.read().seed);
    let next_seed = Callback::new(move |_| page.update(|p| p.seed = p.seed.wrapping_add(1)));
    let shows = move |name: &str| page.read_untracked().shows(name);
    let model = StoredValue::new_local(dreamer.clone());

    view! {
        <main class="playground">
            <header class="masthead">
                <h1>"World-model playground"</h1>
                <p class="tagline">
                    "One small model of a 2D physics world, learned from video, running in your browser: "
                    "it dreams the world forward, answers questions about it, and plans in it."
                </p>
            </header>
            {shows("tabs").then(|| view! {
                <nav class="tabs" aria-label="Demos" data-testid="tabs">
                    {Demo::ALL.into_iter().map(|d| view! {
                        <a
                            href=move || PageState { demo: d, ..page.get() }.to_query()
                            class:active=move || demo.get() == d
                            aria-current=move || (demo.get() == d).then_some("page")
                            data-testid=format!("tab-{}", d.key())
                            on:click=move |ev| {
                                ev.prevent_default();
                                page.update(|p| p.demo = d);
                            }
                        >
                            {d.title()}
                            <span class="tab-note">{match d {
                                Demo::Dream => "generation",
                                Demo::Ask => "understanding",
                                Demo::Plan => "operation",
                                Demo::Explain => "how it works",
                            }}</span>
                        </a>
                    }).collect_view()}
                </nav>
            })}
            <Notices notices />
            {move || match demo.get() {
                Demo::Dream => view! {
                    <Playground
                        initial=page.get_untracked()
                        dreamer=model.get_value()
                        dream_canvas
                        on_change
                    />
                }.into_any(),
                Demo::Ask => view! {
                    <AskDemo
                        dreamer=model.get_value()
                        seed
                        on_new_clip=next_seed
                        show_question_field=shows("question")
                    />
                }.into_any(),
                Demo::Plan => view! {
                    <PlanDemo
                        dreamer=model.get_value()
                        seed
                        rollouts
                        horizon
                        on_new_task=next_seed
                        show_rollouts=shows("rollouts")
                        show_horizon=shows("horizon")
                    />
                }.into_any(),
                Demo::Explain => view! {
                    <ExplainDemo dreamer=model.get_value() seed show_temperature=shows("temperature") />
                }.into_any(),
            }}
            // Last: it appears when the model has loaded, and nothing above it moves.
            {shows("results").then(|| view! { <ResultsPanel rows=dreamer.view.results /> })}
        </main>
    }
}
