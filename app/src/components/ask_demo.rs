use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use world::language::question::QuestionKind;
use world::language::vocab;

use crate::ask::{question_words, reply_text, yes_no_ids, yes_share, AskClip, Asked, PROPERTIES};
use crate::browser::{paint, FrameLoop};
use crate::components::ModelBox;
use crate::dream::rgb_to_rgba;
use crate::dreamer::Dreamer;
use crate::session::MODEL_VIEW_SIZE;

/// Milliseconds each frame of the clip stays on screen while it plays.
const FRAME_MS: f64 = 100.0;
/// Said when a button needs the model while it is answering something else.
const BUSY: &str = "The model is busy (loading or answering): try again in a moment.";
/// The model captions the clip so far every this many frames while it plays.
const CAPTION_EVERY: usize = 10;

/// The model's reply to one question, as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub text: String,
    /// Probability of each word of the reply, in order.
    pub probs: Vec<f32>,
    /// The three likeliest first words with their probabilities.
    pub alternatives: Vec<(String, f32)>,
}

/// A row of the question list: the question, the simulator's answer, the model's reply.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    asked: Asked,
    reply: Option<Result<Shown, String>>,
}

/// Understanding: a clip of the world plays; the visitor asks questions of every type and
/// reads the model's answers, with their probabilities, beside the simulator's; the model
/// captions the clip as it plays and reads hidden properties off the motion.
#[component]
pub fn AskDemo(
    dreamer: Dreamer,
    /// The clip's seed (the page's seed).
    #[prop(into)]
    seed: Signal<u64>,
    /// Asks for another clip.
    on_new_clip: Callback<()>,
    /// Whether the typed-question field is shown (`hide=question`).
    #[prop(default = true)]
    show_question_field: bool,
) -> impl IntoView {
    let canvas: NodeRef<Canvas> = NodeRef::new();
    let clip: RwSignal<Option<Rc<AskClip>>, LocalStorage> = RwSignal::new_local(None);
    let problem = RwSignal::new(None::<String>);
    let shown = RwSignal::new(1usize);
    let playing = RwSignal::new(false);
    let rows = RwSignal::new(Vec::<Row>::new());
    let caption_truth = RwSignal::new(String::new());
    let caption_model = RwSignal::new(None::<(usize, String)>);
    let props = RwSignal::new(Vec::<(String, Vec<(String, Option<String>, Option<f32>)>)>::new());
    let typed = RwSignal::new(String::new());
    let typed_problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let view = dreamer.view;

    // A new clip for every seed.
    Effect::new(move |_| {
        let s = seed.get();
        match AskClip::new(s) {
            Ok(c) => {
                let len = c.len();
                rows.set(
                    c.questions()
                        .into_iter()
                        .map(|asked| Row { asked, reply: None })
                        .collect(),
                );
                props.set(
                    c.property_questions()
                        .into_iter()
                        .map(|(o, qs)| (o, qs.into_iter().map(|(q, t)| (q, t, None)).collect()))
                        .collect(),
                );
                clip.set(Some(Rc::new(c)));
                problem.set(None);
                shown.set(len);
                caption_model.set(None);
            }
            Err(e) => problem.set(Some(e)),
        }
    });

    // Paint the frame shown, and the true caption up to it.
    Effect::new(move |_| {
        let n = shown.get();
        let Some(c) = clip.get() else { return };
        caption_truth.set(c.caption_until(n));
        if let Some(el) = canvas.get() {
            if let Err(e) = paint(&el, &rgb_to_rgba(c.episode.frame(n - 1)), MODEL_VIEW_SIZE) {
                problem.set(Some(e.to_string()));
            }
        }
    });

    // The model's caption of the first `n` frames.
    // The model's caption of the first `n` frames. While the model is busy the request waits;
    // a newer one replaces it.
    let wanted = StoredValue::new(0usize);
    let caption = {
        let dreamer = dreamer.clone();
        move |n: usize| {
            let Some(c) = clip.get_untracked() else {
                return;
            };
            wanted.set_value(n);
            let dreamer = dreamer.clone();
            leptos::task::spawn_local(async move {
                while wanted.get_value() == n {
                    let c = c.clone();
                    let started = dreamer.run_job(move |mut rt| async move {
                        let (frames, actions) = c.clip(n);
                        match rt.caption(&frames, actions).await {
                            Ok(words) => caption_model.set(Some((n, reply_text(&words)))),
                            Err(e) => caption_model.set(Some((n, format!("(no caption: {e})")))),
                        }
                        rt
                    });
                    if started {
                        break;
                    }
                    gloo::timers::future::TimeoutFuture::new(50).await;
                }
            });
        }
    };

    // Playing: one frame every FRAME_MS, a model caption every CAPTION_EVERY frames.
    let last = StoredValue::new(0.0f64);
    let frame_loop = FrameLoop::start({
        let caption = caption.clone();
        move |now| {
            if !playing.get_untracked() {
                return;
            }
            if now - last.get_value() < FRAME_MS {
                return;
            }
            last.set_value(now);
            let Some(c) = clip.get_untracked() else {
                return;
            };
            let n = shown.get_untracked();
            if n >= c.len() {
                playing.set(false);
                caption(n);
                return;
            }
            shown.set(n + 1);
            if (n + 1) % CAPTION_EVERY == 0 {
                caption(n + 1);
            }
        }
    });
    StoredValue::new_local(frame_loop);

    let ask_row = {
        let dreamer = dreamer.clone();
        move |i: usize| -> bool {
            let Some(c) = clip.get_untracked() else {
                return false;
            };
            let Some(row) = rows.get_untracked().get(i).cloned() else {
                return false;
            };
            let words = match question_words(&row.asked.question) {
                Ok(w) => w,
                Err(e) => {
                    rows.update(|r| r[i].reply = Some(Err(e)));
                    return true;
                }
            };
            busy.set(true);
            dreamer.run_job(move |mut rt| async move {
                let (frames, actions) = c.clip(row.asked.frames);
                let reply = rt.ask(&frames, actions, &words).await;
                let shown_reply = reply
                    .map(|r| Shown {
                        text: reply_text(&r.words),
                        probs: r.words.iter().map(|w| w.1).collect(),
                        alternatives: r
                            .alternatives(3)
                            .into_iter()
                            .map(|(w, p)| (vocab::word(w).unwrap_or("?").to_string(), p))
                            .collect(),
                    })
                    .map_err(|e| e.to_string());
                rows.update(|r| {
                    if let Some(r) = r.get_mut(i) {
                        if r.asked == row.asked {
                            r.reply = Some(shown_reply);
                        }
                    }
                });
                busy.set(false);
                rt
            })
        }
    };

    // Asks every unanswered question of the list in turn (one model call at a time).
    let ask_all = {
        let ask_row = ask_row.clone();
        move || {
            let pending: Vec<usize> = rows
                .get_untracked()
                .iter()
                .enumerate()
                .filter(|(_, r)| r.reply.is_none())
                .map(|(i, _)| i)
                .collect();
            let ask_row = ask_row.clone();
            leptos::task::spawn_local(async move {
                for i in pending {
                    // Wait for the model to be free, then ask.
                    loop {
                        if ask_row(i) {
                            break;
                        }
                        gloo::timers::future::TimeoutFuture::new(50).await;
                    }
                    while busy.get_untracked() {
                        gloo::timers::future::TimeoutFuture::new(30).await;
                    }
                }
            });
        }
    };

    let on_typed = {
        let ask_row = ask_row.clone();
        move || {
            let Some(c) = clip.get_untracked() else {
                return;
            };
            match c.typed(&typed.get_untracked()) {
                Ok(asked) => {
                    typed_problem.set(None);
                    rows.update(|r| r.insert(0, Row { asked, reply: None }));
                    if !ask_row(0) {
                        typed_problem.set(Some(BUSY.into()));
                    }
                }
                Err(e) => typed_problem.set(Some(e)),
            }
        }
    };

    let read_properties = {
        let dreamer = dreamer.clone();
        move || {
            let Some(c) = clip.get_untracked() else {
                return;
            };
            let questions: Vec<(usize, usize, String)> = props
                .get_untracked()
                .iter()
                .enumerate()
                .flat_map(|(o, (_, qs))| {
                    qs.iter()
                        .enumerate()
                        .map(move |(k, (q, _, _))| (o, k, q.clone()))
                })
                .collect();
            let (yes, no) = yes_no_ids();
            let started = dreamer.run_job(move |mut rt| async move {
                let (frames, actions) = c.clip(c.len());
                for (o, k, q) in questions {
                    // Let the page draw between questions.
                    gloo::timers::future::TimeoutFuture::new(0).await;
                    let Ok(words) = question_words(&q) else {
                        continue;
                    };
                    if let Ok(r) = rt.ask(&frames, actions, &words).await {
                        let p = yes_share(r.first_word(yes), r.first_word(no));
                        props.update(|all| all[o].1[k].2 = Some(p));
                    }
                }
                rt
            });
            if !started {
                typed_problem.set(Some(BUSY.into()));
            }
        }
    };

    let ready = move || matches!(view.status.get(), crate::dreamer::ModelStatus::Ready(_));

    view! {
        <section class="demo ask-demo" data-testid="ask-demo" aria-label="Ask the model about a clip">
            <div class="demo-intro">
                <p>
                    "A clip of the world plays. Ask what happened, why, what will happen next, what would have "
                    "happened without an object, or what an object is like. The model answers from the pixels "
                    "and the moves alone; the simulator knows the truth."
                </p>
            </div>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            <div class="layout">
                <section class="stage-column" aria-label="The clip">
                    <figure class="panel clip-view">
                        <canvas
                            node_ref=canvas
                            data-testid="clip-canvas"
                            width=MODEL_VIEW_SIZE.to_string()
                            height=MODEL_VIEW_SIZE.to_string()
                            role="img"
                            aria-label="The clip, 64 by 64 pixels"
                        ></canvas>
                        <figcaption>
                            <strong>"The clip"</strong>
                            <span>{move || format!("frame {} of {}", shown.get(), clip.get().map(|c| c.len()).unwrap_or(0))}</span>
                        </figcaption>
                        <div class="clip-controls">
                            <button
                                type="button"
                                class="button"
                                data-testid="play-clip"
                                on:click=move |_| {
                                    if !playing.get_untracked() {
                                        shown.set(1);
                                        caption_model.set(None);
                                    }
                                    playing.update(|p| *p = !*p);
                                }
                            >
                                {move || if playing.get() { "Pause" } else { "Play the clip" }}
                            </button>
                            <input
                                type="range"
                                min="1"
                                max=move || clip.get().map(|c| c.len()).unwrap_or(1).to_string()
                                prop:value=move || shown.get().to_string()
                                aria-label="Frame of the clip"
                                data-testid="clip-frame"
                                on:input=move |ev| {
                                    if let Ok(n) = event_target_value(&ev).parse::<usize>() {
                                        playing.set(false);
                                        shown.set(n.max(1));
                                    }
                                }
                            />
                            <button type="button" class="button" data-testid="new-clip" on:click=move |_| on_new_clip.run(())>
                                "Another clip"
                            </button>
                        </div>
                    </figure>
                    <div class="panel captions" aria-live="polite">
                        <h2>"Captions"</h2>
                        <p><span class="who">"Simulator: "</span><span data-testid="caption-truth">{move || caption_truth.get()}</span></p>
                        <p>
                            <span class="who">"Model: "</span>
                            <span data-testid="caption-model">
                                {move || match caption_model.get() {
                                    Some((n, text)) => format!("{text} (after {n} frames)"),
                                    None => "plays with the clip: every 10 frames it says what it saw.".into(),
                                }}
                            </span>
                        </p>
                    </div>
                </section>
                <aside class="side-column">
                    <ModelBox view=view verb="Answering" />
                    <div class="panel questions">
                        <h2>"Questions"</h2>
                        {show_question_field.then(|| view! {
                            <form class="typed-question" on:submit={
                                let on_typed = on_typed.clone();
                                move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); on_typed(); }
                            }>
                                <input
                                    type="text"
                                    data-testid="question-input"
                                    placeholder="what made the red ball move ?"
                                    aria-label="Your question"
                                    maxlength="200"
                                    prop:value=move || typed.get()
                                    on:input=move |ev| typed.set(event_target_value(&ev))
                                />
                                <button type="submit" class="button" disabled=move || !ready()>"Ask"</button>
                            </form>
                            <p class="error-text" role="alert" data-testid="question-problem">{move || typed_problem.get()}</p>
                        })}
                        <button type="button" class="button" data-testid="ask-all" disabled=move || !ready() on:click={
                            let ask_all = ask_all.clone();
                            move |_| ask_all()
                        }>"Ask them all"</button>
                        <ol class="question-list" data-testid="questions">
                            {
                                let ask_row = StoredValue::new_local(ask_row.clone());
                                move || rows.get().into_iter().enumerate().map(|(i, row)| {
                                    let ask_row = ask_row.get_value();
                                    view! { <QuestionRow row=row on_ask=move || if !ask_row(i) { typed_problem.set(Some(BUSY.into())) } ready=Signal::derive(ready) /> }
                                }).collect_view()
                            }
                        </ol>
                    </div>
                    <div class="panel properties" data-testid="properties">
                        <h2>"Hidden properties"</h2>
                        <p class="hint">"After watching, the model's belief that each object is heavy, slippery or bouncy, beside what the simulator knows (\"?\" when the clip cannot tell)."</p>
                        <button type="button" class="button" data-testid="read-properties" disabled=move || !ready() on:click={
                            let read_properties = read_properties.clone();
                            move |_| read_properties()
                        }>"Read them off the motion"</button>
                        {move || props.get().into_iter().map(|(object, rows)| view! {
                            <div class="property-object">
                                <h3>{object}</h3>
                                {rows.into_iter().zip(PROPERTIES).map(|((_, truth, p), (name, _))| view! {
                                    <div class="property-bar">
                                        <span class="property-name">{name}</span>
                                        <span class="bar" role="meter" aria-label=name aria-valuemin="0" aria-valuemax="1"
                                            aria-valuenow=p.map(|p| format!("{p:.2}")).unwrap_or_default()>
                                            <span class="fill" style:width=format!("{:.0}%", p.unwrap_or(0.0) * 100.0)></span>
                                        </span>
                                        <span class="property-p" data-testid="property-p">{p.map(|p| format!("{:.0}%", p * 100.0)).unwrap_or_else(|| "–".into())}</span>
                                        <span class="property-truth">{format!("truth: {}", truth.unwrap_or_else(|| "?".into()))}</span>
                                    </div>
                                }).collect_view()}
                            </div>
                        }).collect_view()}
                    </div>
                </aside>
            </div>
        </section>
    }
}

fn kind_label(kind: QuestionKind) -> &'static str {
    kind.name()
}

#[component]
fn QuestionRow(row: Row, on_ask: impl Fn() + 'static, ready: Signal<bool>) -> impl IntoView {
    let Row { asked, reply } = row;
    let truth = asked.truth.clone();
    let verdict = reply
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .map(|s| s.text == truth);
    view! {
        <li class="question" data-testid="question" data-kind=kind_label(asked.kind)>
            <span class="kind">{kind_label(asked.kind)}</span>
            <span class="text" data-testid="question-text">{asked.question.clone()}</span>
            <span class="truth">"Simulator: " <strong data-testid="truth">{asked.truth.clone()}</strong></span>
            {match reply {
                None => view! {
                    <button type="button" class="button small" disabled=move || !ready.get() on:click=move |_| on_ask()>"Ask"</button>
                }.into_any(),
                Some(Err(e)) => view! { <span class="error-text" data-testid="reply-error">{e}</span> }.into_any(),
                Some(Ok(s)) => view! {
                    <span class="reply">
                        "Model: " <strong data-testid="reply">{s.text.clone()}</strong>
                        <span class="p" data-testid="reply-p">{format!(" ({})", s.probs.iter().map(|p| format!("{:.0}%", p * 100.0)).collect::<Vec<_>>().join(" "))}</span>
                        <span class="alternatives">{format!(" first word: {}", s.alternatives.iter().map(|(w, p)| format!("{w} {:.0}%", p * 100.0)).collect::<Vec<_>>().join(", "))}</span>
                        <span class="verdict" data-testid="verdict">{if verdict == Some(true) { " ✓ right" } else { " ✗ wrong" }}</span>
                    </span>
                }.into_any(),
            }}
        </li>
    }
}
