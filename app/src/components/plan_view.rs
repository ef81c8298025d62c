use std::cell::RefCell;
use std::rc::Rc;

use layout::cem::CemConfig;
use leptos::html::Canvas;
use leptos::prelude::*;
use world::render::Renderer;

use crate::browser::paint;
use crate::components::ModelBox;
use crate::dreamer::{Dreamer, ModelStatus};
use crate::plan_demo::{
    arena_to_canvas, canvas_to_arena, goal_from_sentence, object_at, settings, steer_path,
    task_from, with_goal, zone_at, Driver, Run, Tally, MAX_STEPS,
};
use crate::session::WORLD_VIEW_SIZE;
use crate::url_state::ROLLOUTS;

/// Length of one move in the fan's drawing, arena units.
const FAN_STEP: f32 = 0.35;
/// Elite sequences drawn from the last iteration (the best first).
const FAN_ELITES: usize = 24;

/// One imagined action sequence as drawn: its polyline and whether it is the chosen plan.
#[derive(Clone, Debug, PartialEq)]
struct FanLine {
    points: String,
    best: bool,
    iteration: usize,
}

/// Operation: the visitor sets a goal (by a sentence, or by dragging an object onto a zone);
/// the model imagines N futures per planning step, the elites are drawn as a fan, the first
/// action is carried out in the true simulator, and again until the object is in the zone or
/// the steps run out. Random moves on the same task are the comparison.
#[component]
pub fn PlanDemo(
    dreamer: Dreamer,
    /// The task's seed (the page's seed).
    #[prop(into)]
    seed: Signal<u64>,
    /// Candidates per iteration and the horizon, from the page state.
    rollouts: RwSignal<u32>,
    horizon: RwSignal<u32>,
    on_new_task: Callback<()>,
    #[prop(default = true)] show_rollouts: bool,
    #[prop(default = true)] show_horizon: bool,
) -> impl IntoView {
    let canvas: NodeRef<Canvas> = NodeRef::new();
    let view = dreamer.view;
    let run: Rc<RefCell<Option<Run>>> = Rc::new(RefCell::new(None));
    let renderer = Rc::new(RefCell::new(
        Renderer::new(WORLD_VIEW_SIZE, WORLD_VIEW_SIZE).ok(),
    ));
    let goal_text = RwSignal::new(String::new());
    let sentence = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let fan = RwSignal::new(Vec::<FanLine>::new());
    let steps = RwSignal::new(0usize);
    let distance = RwSignal::new(0.0f32);
    let status = RwSignal::new(String::from("Set a goal, then plan."));
    let running = RwSignal::new(None::<Driver>);
    let model_tally = RwSignal::new(Tally::default());
    let random_tally = RwSignal::new(Tally::default());
    let last_ms = RwSignal::new(None::<(f64, usize)>);
    let drag_from = RwSignal::new(None::<usize>);
    let zones = RwSignal::new(Vec::<(String, [f32; 4])>::new());

    // Draws the run's current state.
    let paint_run = {
        let run = run.clone();
        let renderer = renderer.clone();
        move || {
            let run = run.borrow();
            let Some(r) = run.as_ref() else { return };
            steps.set(r.actions.len());
            distance.set(r.distance());
            let Some(el) = canvas.get_untracked() else {
                return;
            };
            if let Some(renderer) = renderer.borrow_mut().as_mut() {
                let rgba = renderer.draw(&r.task.scene, &r.state()).to_vec();
                if let Err(e) = paint(&el, &rgba, WORLD_VIEW_SIZE) {
                    problem.set(Some(e.to_string()));
                }
            }
        }
    };

    // A fresh episode of `task` for `driver`.
    let start = {
        let run = run.clone();
        let paint_run = paint_run.clone();
        move |task: world::task::PushTask, driver: Driver| {
            goal_text.set(task.goal_text());
            let size = WORLD_VIEW_SIZE as f32;
            zones.set(
                task.scene
                    .zones
                    .iter()
                    .map(|z| {
                        let r = z.rect(task.scene.view);
                        let a = arena_to_canvas([r.min[0], r.max[1]], size);
                        let b = arena_to_canvas([r.max[0], r.min[1]], size);
                        (
                            world::language::names::zone_colour_word(z.colour).to_string(),
                            [a[0], a[1], b[0] - a[0], b[1] - a[1]],
                        )
                    })
                    .collect(),
            );
            match Run::new(task, driver) {
                Ok(r) => *run.borrow_mut() = Some(r),
                Err(e) => problem.set(Some(e)),
            }
            fan.set(Vec::new());
            paint_run();
        }
    };

    // A new task for every seed.
    Effect::new({
        let start = start.clone();
        move |_| {
            let task = task_from(seed.get());
            running.set(None);
            start(task, Driver::Model);
            status.set("Set a goal (or keep this one), then plan.".into());
        }
    });
    // Paint once the canvas is there.
    Effect::new({
        let paint_run = paint_run.clone();
        move |_| {
            if canvas.get().is_some() {
                paint_run();
            }
        }
    });

    let current_task = {
        let run = run.clone();
        move || run.borrow().as_ref().map(|r| r.task.clone())
    };

    let set_goal = {
        let start = start.clone();
        let current_task = current_task.clone();
        move |object: usize, zone: usize| {
            let Some(task) = current_task() else { return };
            match with_goal(&task, object, zone) {
                Ok(t) => {
                    running.set(None);
                    problem.set(None);
                    start(t, Driver::Model);
                    status.set("New goal set: plan when ready.".into());
                }
                Err(e) => problem.set(Some(e)),
            }
        }
    };

    let on_sentence = {
        let set_goal = set_goal.clone();
        let current_task = current_task.clone();
        move || {
            let Some(task) = current_task() else { return };
            match goal_from_sentence(&task.scene, &sentence.get_untracked()) {
                Ok((o, z)) => set_goal(o, z),
                Err(e) => problem.set(Some(e)),
            }
        }
    };

    // One step of the episode: the model plans (or a random move is drawn), the first action
    // is carried out; then the next step, until the episode ends or is stopped.
    fn step(
        run: Rc<RefCell<Option<Run>>>,
        dreamer: Dreamer,
        cfg: CemConfig,
        signals: StepSignals,
        paint_run: Rc<dyn Fn()>,
    ) {
        let Some(driver) = signals.running.get_untracked() else {
            return;
        };
        let finish = {
            let run = run.clone();
            let paint_run = paint_run.clone();
            move |action: u8, plan: Vec<u8>| -> bool {
                let outcome = run.borrow_mut().as_mut().and_then(|r| r.act(action, plan));
                paint_run();
                if let Some(success) = outcome {
                    let tally = match driver {
                        Driver::Model => signals.model_tally,
                        Driver::Random => signals.random_tally,
                    };
                    tally.update(|t| t.add(success));
                    signals.running.set(None);
                    signals.status.set(if success {
                        format!(
                            "Done: the object is in the zone after {} moves.",
                            run.borrow().as_ref().map(|r| r.actions.len()).unwrap_or(0)
                        )
                    } else {
                        format!("Missed: {MAX_STEPS} moves and the object is not in the zone.")
                    });
                    return false;
                }
                true
            }
        };
        match driver {
            Driver::Random => {
                let action = run
                    .borrow_mut()
                    .as_mut()
                    .map(|r| r.random_action())
                    .unwrap_or(0);
                let more = finish(action, vec![action]);
                if more {
                    let run = run.clone();
                    leptos::task::spawn_local(async move {
                        gloo::timers::future::TimeoutFuture::new(40).await;
                        step(run, dreamer, cfg, signals, paint_run);
                    });
                }
            }
            Driver::Model => {
                let (view, context, last, goal, warm) = {
                    let r = run.borrow();
                    let Some(r) = r.as_ref() else { return };
                    let [a, b] = r.context();
                    (
                        r.task.scene.view,
                        [a.to_vec(), b.to_vec()],
                        r.last_move(),
                        r.goal_words(),
                        r.warm_start(cfg.horizon),
                    )
                };
                let start_pos = run
                    .borrow()
                    .as_ref()
                    .map(|r| r.state().agent.position)
                    .unwrap_or([5.0, 5.0]);
                let seed = run
                    .borrow()
                    .as_ref()
                    .map(|r| r.actions.len() as u32)
                    .unwrap_or(0);
                let again = {
                    let run = run.clone();
                    let dreamer = dreamer.clone();
                    let cfg = cfg.clone();
                    let paint_run = paint_run.clone();
                    move || step(run, dreamer, cfg, signals, paint_run)
                };
                let retry_cfg = cfg.clone();
                let this = dreamer.clone();
                let started = dreamer.run_job(move |mut rt| async move {
                    let t0 = js_sys::Date::now();
                    let result = rt
                        .plan(view, [&context[0], &context[1]], last, &goal, &cfg, &warm, seed)
                        .await;
                    let ms = js_sys::Date::now() - t0;
                    match result {
                        Ok(plan) => {
                            signals.last_ms.set(Some((ms, plan.evaluated)));
                            signals.fan.set(fan_lines(&plan, start_pos));
                            let action = plan.actions.first().copied().unwrap_or(0);
                            if finish(action, plan.actions.clone()) {
                                leptos::task::spawn_local(async move {
                                    gloo::timers::future::TimeoutFuture::new(0).await;
                                    again();
                                });
                            }
                        }
                        // The GPU device was lost and the model started again: plan this
                        // move again on the new one.
                        Err(_) if this.recover(&mut rt).await => {
                            leptos::task::spawn_local(async move {
                                gloo::timers::future::TimeoutFuture::new(0).await;
                                again();
                            });
                        }
                        Err(e) => {
                            signals.running.set(None);
                            signals.status.set(format!("Planning failed: {e}"));
                        }
                    }
                    rt
                });
                if !started {
                    // The model is busy or loading: try again shortly.
                    let run = run.clone();
                    leptos::task::spawn_local(async move {
                        gloo::timers::future::TimeoutFuture::new(100).await;
                        step(run, dreamer, retry_cfg, signals, paint_run);
                    });
                }
            }
        }
    }

    let signals = StepSignals {
        running,
        status,
        model_tally,
        random_tally,
        last_ms,
        fan,
    };
    let begin = {
        let run = run.clone();
        let dreamer = dreamer.clone();
        let start = start.clone();
        let current_task = current_task.clone();
        let paint_run: Rc<dyn Fn()> = Rc::new(paint_run.clone());
        move |driver: Driver| {
            if running.get_untracked().is_some() {
                running.set(None);
                status.set("Stopped.".into());
                return;
            }
            let Some(task) = current_task() else { return };
            start(task, driver);
            running.set(Some(driver));
            status.set(match driver {
                Driver::Model => "The model plans each move…".into(),
                Driver::Random => "Random moves…".into(),
            });
            let cfg = settings(rollouts.get_untracked(), horizon.get_untracked());
            step(
                run.clone(),
                dreamer.clone(),
                cfg,
                signals,
                paint_run.clone(),
            );
        }
    };

    let pointer_point = move |ev: &leptos::ev::PointerEvent| -> Option<[f32; 2]> {
        let el = canvas.get_untracked()?;
        let rect = el.get_bounding_client_rect();
        let x = (ev.client_x() as f64 - rect.left()) / rect.width() * WORLD_VIEW_SIZE as f64;
        let y = (ev.client_y() as f64 - rect.top()) / rect.height() * WORLD_VIEW_SIZE as f64;
        Some(canvas_to_arena(x as f32, y as f32, WORLD_VIEW_SIZE as f32))
    };
    let on_down = {
        let run = run.clone();
        move |ev: leptos::ev::PointerEvent| {
            let Some(p) = pointer_point(&ev) else { return };
            let r = run.borrow();
            let Some(r) = r.as_ref() else { return };
            drag_from.set(object_at(&r.task.scene, &r.state(), p));
        }
    };
    let on_up = {
        let run = run.clone();
        let set_goal = set_goal.clone();
        move |ev: leptos::ev::PointerEvent| {
            let Some(object) = drag_from.get_untracked() else {
                return;
            };
            drag_from.set(None);
            let Some(p) = pointer_point(&ev) else { return };
            let zone = run
                .borrow()
                .as_ref()
                .and_then(|r| zone_at(&r.task.scene, p));
            match zone {
                Some(z) => set_goal(object, z),
                None => problem.set(Some(
                    "Drop the object inside a zone to make that the goal.".into(),
                )),
            }
        }
    };

    let ready = move || matches!(view.status.get(), ModelStatus::Ready(_));
    let size = WORLD_VIEW_SIZE.to_string();
    let rollout_index = move || {
        ROLLOUTS
            .iter()
            .position(|&n| n == rollouts.get())
            .unwrap_or(4)
    };

    view! {
        <section class="demo plan-demo" data-testid="plan-demo" aria-label="Plan with the model">
            <div class="demo-intro">
                <p>
                    "Give the agent a goal. Before every move the model imagines many futures (action sequences "
                    "rolled forward in its own latent state), keeps the best, refines them, and the first move of "
                    "the best plan is made in the real simulator. Then it plans again."
                </p>
            </div>
            <div class="layout">
                <section class="stage-column" aria-label="The task">
                    <figure class="panel world-view plan-view">
                        <div class="plan-stack">
                            <canvas
                                node_ref=canvas
                                data-testid="plan-canvas"
                                width=size.clone()
                                height=size.clone()
                                role="img"
                                aria-label="The task in the simulator; drag an object onto a zone to set the goal"
                                on:pointerdown=on_down
                                on:pointerup=on_up
                            ></canvas>
                            <svg class="fan" viewBox=format!("0 0 {size} {size}") aria-hidden="true" data-testid="fan">
                                {move || fan.get().into_iter().map(|l| view! {
                                    <polyline
                                        points=l.points
                                        class=if l.best { "best" } else if l.iteration == 0 { "early" } else { "elite" }
                                    />
                                }).collect_view()}
                            </svg>
                        </div>
                        <figcaption>
                            <strong data-testid="goal">{move || goal_text.get()}</strong>
                            <span data-testid="plan-progress">{move || format!("move {} of at most {MAX_STEPS}, distance to the zone {:.2}", steps.get(), distance.get())}</span>
                        </figcaption>
                    </figure>
                    <p class="hint">"Drag an object onto a zone to make that the goal. Lines: imagined action sequences, drawn as the paths they steer the agent along; the chosen plan is thickest."</p>
                </section>
                <aside class="side-column">
                    <ModelBox view=view verb="Planning" />
                    <div class="panel plan-controls">
                        <form class="goal-sentence" on:submit={
                            let on_sentence = on_sentence.clone();
                            move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); on_sentence(); }
                        }>
                            <input
                                type="text"
                                data-testid="goal-input"
                                placeholder="push the red box into the green zone"
                                aria-label="The goal in words"
                                maxlength="200"
                                prop:value=move || sentence.get()
                                on:input=move |ev| sentence.set(event_target_value(&ev))
                            />
                            <button type="submit" class="button">"Set goal"</button>
                        </form>
                        <p class="error-text" role="alert" data-testid="plan-problem">{move || problem.get()}</p>
                        {show_rollouts.then(|| view! {
                            <label>
                                "Imagined futures per step "
                                <input type="range" min="0" max=(ROLLOUTS.len() - 1).to_string() step="1"
                                    data-testid="rollouts"
                                    prop:value=move || rollout_index().to_string()
                                    on:input=move |ev| {
                                        if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                                            rollouts.set(ROLLOUTS[i.min(ROLLOUTS.len() - 1)]);
                                        }
                                    }
                                />
                                <output>{move || rollouts.get().to_string()}</output>
                            </label>
                        })}
                        {show_horizon.then(|| view! {
                            <label>
                                "Horizon (moves) "
                                <input type="range" min="4" max="24" step="1" data-testid="horizon"
                                    prop:value=move || horizon.get().to_string()
                                    on:input=move |ev| {
                                        if let Ok(h) = event_target_value(&ev).parse::<u32>() {
                                            horizon.set(h.clamp(4, 24));
                                        }
                                    }
                                />
                                <output>{move || horizon.get().to_string()}</output>
                            </label>
                        })}
                        <div class="plan-buttons">
                            <button type="button" class="button primary" data-testid="run-plan" disabled=move || !ready() on:click={
                                let begin = begin.clone();
                                move |_| begin(Driver::Model)
                            }>
                                {move || if running.get() == Some(Driver::Model) { "Stop" } else { "Plan and act" }}
                            </button>
                            <button type="button" class="button" data-testid="run-random" on:click={
                                let begin = begin.clone();
                                move |_| begin(Driver::Random)
                            }>
                                {move || if running.get() == Some(Driver::Random) { "Stop" } else { "Random moves" }}
                            </button>
                            <button type="button" class="button" data-testid="new-task" on:click=move |_| on_new_task.run(())>"Another task"</button>
                        </div>
                        <p role="status" data-testid="plan-status">{move || status.get()}</p>
                        <p data-testid="plan-timing">{move || last_ms.get().map(|(ms, n)| format!("Last plan: {n} imagined futures in {ms:.0} ms."))}</p>
                        <table class="tally">
                            <thead><tr><th>""</th><th>"episodes"</th><th>"reached the zone"</th></tr></thead>
                            <tbody>
                                <tr><th>"Model"</th><td data-testid="model-episodes">{move || model_tally.get().episodes}</td><td data-testid="model-successes">{move || model_tally.get().successes}</td></tr>
                                <tr><th>"Random"</th><td data-testid="random-episodes">{move || random_tally.get().episodes}</td><td data-testid="random-successes">{move || random_tally.get().successes}</td></tr>
                            </tbody>
                        </table>
                    </div>
                </aside>
            </div>
            {move || zones.get().is_empty().then(|| view! { <p class="hint">"This scene has no zone."</p> })}
        </section>
    }
}

/// The signals one planning step writes.
#[derive(Clone, Copy)]
struct StepSignals {
    running: RwSignal<Option<Driver>>,
    status: RwSignal<String>,
    model_tally: RwSignal<Tally>,
    random_tally: RwSignal<Tally>,
    last_ms: RwSignal<Option<(f64, usize)>>,
    fan: RwSignal<Vec<FanLine>>,
}

/// The fan: elites of the first and last iterations as agent paths, the chosen plan last.
fn fan_lines(plan: &runtime::plan::PlanResult, start: [f32; 2]) -> Vec<FanLine> {
    let size = WORLD_VIEW_SIZE as f32;
    let line = |actions: &[u8], best: bool, iteration: usize| FanLine {
        points: steer_path(start, actions, FAN_STEP)
            .into_iter()
            .map(|p| {
                let c = arena_to_canvas(p, size);
                format!("{:.1},{:.1}", c[0], c[1])
            })
            .collect::<Vec<_>>()
            .join(" "),
        best,
        iteration,
    };
    let mut out = Vec::new();
    let last = plan.iterations.len().saturating_sub(1);
    for (i, it) in plan.iterations.iter().enumerate() {
        if i != 0 && i != last {
            continue;
        }
        for a in it.actions.iter().take(FAN_ELITES) {
            out.push(line(a, false, i));
        }
    }
    out.push(line(&plan.actions, true, last));
    out
}
