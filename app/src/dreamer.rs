//! The model in the page: loads it (with progress) and runs the Dream beside the simulator.
//! The simulator's frames are observed as they happen; the model dreams the same steps from its
//! own frames, one call at a time, catching up in batches when it falls behind.
//!
//! The runtime is one shared resource: a call takes it out of its slot and puts it back when
//! done, so two calls never overlap and nothing is borrowed across an await.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use leptos::task::spawn_local;
use runtime::Runtime;

use crate::engine::{prefer, start_worker, Engine, FromWorker, Remote};
use crate::url_state::Backend;

use crate::browser::paint;
use crate::dream::{rgb_to_rgba, rgba_to_rgb, Dream, Follow, Score};
use crate::model::{self, Loading};
use crate::results::{rows, Row};
use crate::session::MODEL_VIEW_SIZE;

/// Where the model stands.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelStatus {
    Loading(Loading),
    /// Running; the backend in words ("GPU: ...", "CPU").
    Ready(String),
    Failed(String),
}

/// What the dream panel shows, as signals.
#[derive(Clone, Copy)]
pub struct DreamView {
    pub status: RwSignal<ModelStatus>,
    /// Why the model runs on the CPU path, when it does.
    pub fallback: RwSignal<Option<String>>,
    /// Something that went wrong and was recovered from (a lost GPU device, a failed step).
    pub notice: RwSignal<Option<String>>,
    pub scores: RwSignal<Vec<Score>>,
    /// Steps the dream is behind the simulator.
    pub behind: RwSignal<usize>,
    /// Steps skipped since the scene started because the model ran slower than the simulator.
    pub skipped: RwSignal<u32>,
    /// Sampling temperature: 0 dreams the most likely frame, higher values sample more freely.
    pub temperature: RwSignal<f32>,
    /// Resync with reality every this many steps; 0 dreams freely.
    pub resync: RwSignal<u32>,
    /// The shipped model's evaluation, from its manifest, once loaded.
    pub results: RwSignal<Vec<Row>>,
}

#[derive(Clone)]
pub struct Dreamer {
    dream: Rc<RefCell<Dream>>,
    model: Rc<RefCell<Option<Engine>>>,
    /// Bumped when the scene starts again, so a call for the old scene is dropped.
    generation: Rc<Cell<u32>>,
    canvas: NodeRef<Canvas>,
    pub view: DreamView,
    /// A fault drill is pending: the next call's GPU device is destroyed as it starts.
    drill: Rc<Cell<bool>>,
}

impl Dreamer {
    fn blank(canvas: NodeRef<Canvas>, temperature: f32, resync: u32) -> Dreamer {
        Dreamer {
            dream: Rc::new(RefCell::new(Dream::new(Follow::Free, 0))),
            model: Rc::new(RefCell::new(None)),
            generation: Rc::new(Cell::new(0)),
            canvas,
            drill: Rc::new(Cell::new(false)),
            view: DreamView {
                status: RwSignal::new(ModelStatus::Loading(Loading::Manifest)),
                fallback: RwSignal::new(None),
                notice: RwSignal::new(None),
                scores: RwSignal::new(Vec::new()),
                behind: RwSignal::new(0),
                skipped: RwSignal::new(0),
                temperature: RwSignal::new(temperature),
                resync: RwSignal::new(resync),
                results: RwSignal::new(Vec::new()),
            },
        }
    }

    /// Starts loading the model in its Web Worker (in the page itself where no worker can
    /// start), on the `backend` the address asked for; the dream is drawn into `canvas`.
    pub fn new(
        canvas: NodeRef<Canvas>,
        temperature: f32,
        resync: u32,
        backend: Backend,
    ) -> Dreamer {
        let dreamer = Dreamer::blank(canvas, temperature, resync);
        let this = dreamer.clone();
        let started: Rc<RefCell<Option<(web_sys::Worker, crate::engine::Inbox)>>> =
            Rc::new(RefCell::new(None));
        let status = dreamer.view.status;
        let on_message = {
            let this = this.clone();
            let started = started.clone();
            move |message: FromWorker| match message {
                FromWorker::Progress(step) => status.set(ModelStatus::Loading(step)),
                FromWorker::Ready(info) => {
                    if let Some((worker, inbox)) = started.borrow().clone() {
                        this.ready(Engine::Remote(Remote::new(worker, inbox, info)));
                    }
                }
                FromWorker::LoadFailed(problem) => status.set(ModelStatus::Failed(problem)),
                FromWorker::Answer(..) => {}
            }
        };
        let on_error = {
            let this = this.clone();
            move |problem: String| {
                if matches!(this.view.status.get_untracked(), ModelStatus::Loading(_)) {
                    // The worker never ran: load the model in the page instead.
                    leptos::logging::warn!("{problem}; loading the model in the page");
                    this.load_here(backend);
                } else {
                    this.view.notice.set(Some(problem));
                }
            }
        };
        match start_worker(backend, on_message, on_error) {
            Ok(worker) => *started.borrow_mut() = Some(worker),
            Err(problem) => {
                leptos::logging::warn!("{problem}; loading the model in the page");
                dreamer.load_here(backend);
            }
        }
        dreamer
    }

    /// Loads the model in the page itself (no worker).
    fn load_here(&self, backend: Backend) {
        let this = self.clone();
        spawn_local(async move {
            let status = this.view.status;
            match model::load(prefer(backend), move |step| {
                status.set(ModelStatus::Loading(step))
            })
            .await
            {
                Ok(runtime) => this.ready(Engine::Local(Box::new(runtime))),
                Err(problem) => this.view.status.set(ModelStatus::Failed(problem)),
            }
        });
    }

    /// With a model already loaded, run in the page (tests).
    pub fn with_runtime(canvas: NodeRef<Canvas>, runtime: Runtime) -> Dreamer {
        let dreamer = Dreamer::blank(canvas, crate::url_state::DEFAULT_TEMPERATURE, 0);
        dreamer.ready(Engine::Local(Box::new(runtime)));
        dreamer
    }

    fn ready(&self, engine: Engine) {
        let info = engine.info();
        self.view.fallback.set(info.fallback.clone());
        let eval = serde_json::from_str(&info.eval).unwrap_or_default();
        self.view.results.set(rows(&eval));
        self.view.status.set(ModelStatus::Ready(info.describe));
        *self.model.borrow_mut() = Some(engine);
        self.pump();
    }

    fn follow(&self) -> Follow {
        match self.view.resync.get_untracked() {
            0 => Follow::Free,
            k => Follow::Resync(k),
        }
    }

    /// The scene starts (again) at frame `number`, showing `rgba` (the model's 64x64 view);
    /// its objects are drawn in `colours`.
    pub fn reset(&self, number: u32, rgba: &[u8], colours: Vec<[u8; 3]>) {
        self.generation.set(self.generation.get().wrapping_add(1));
        let mut dream = Dream::new(self.follow(), self.generation.get()).with_colours(colours);
        dream.observe(number, 0, rgba_to_rgb(rgba));
        *self.dream.borrow_mut() = dream;
        self.view.scores.set(Vec::new());
        self.view.behind.set(0);
        self.view.skipped.set(0);
        self.show();
    }

    /// The simulator stepped to frame `number` by discrete `action`, showing `rgba`.
    pub fn observe(&self, number: u32, action: u8, rgba: &[u8]) {
        self.dream
            .borrow_mut()
            .observe(number, action, rgba_to_rgb(rgba));
    }

    /// Changes how the dream follows reality from its next step on.
    pub fn set_resync(&self, every: u32) {
        self.view.resync.set(every);
        self.dream.borrow_mut().follow = self.follow();
    }

    /// Asks the model for the owed steps, if it is free.
    pub fn pump(&self) {
        self.view.behind.set(self.dream.borrow().behind());
        self.view.skipped.set(self.dream.borrow().skipped());
        if self.model.borrow().is_none() {
            return; // loading, or a call is in flight
        }
        let Some(request) = self.dream.borrow_mut().request() else {
            return;
        };
        let Some(mut runtime) = self.take_model() else {
            return;
        };
        let this = self.clone();
        let generation = self.generation.get();
        let temperature = self.view.temperature.get_untracked();
        spawn_local(async move {
            let result = runtime
                .imagine(
                    [&request.context[0], &request.context[1]],
                    request.last,
                    &request.actions,
                    temperature,
                    request.seed,
                )
                .await;
            let recovered = this.recover(&mut runtime).await;
            *this.model.borrow_mut() = Some(runtime);
            if generation == this.generation.get() {
                match result {
                    Ok(frames) => this.dream.borrow_mut().dreamed(frames),
                    Err(_) if recovered => this.dream.borrow_mut().retry(),
                    Err(e) => {
                        this.dream.borrow_mut().failed();
                        this.view
                            .notice
                            .set(Some(format!("A dream step failed and was skipped: {e}")));
                    }
                }
                this.view
                    .scores
                    .set(this.dream.borrow().history().copied().collect());
                this.show();
            }
            this.pump();
        });
    }

    /// After a call: when the GPU device was lost meanwhile, the model was started again
    /// without reloading anything; say so.
    /// Returns whether that happened (a failed call is then worth making again).
    pub async fn recover(&self, engine: &mut Engine) -> bool {
        let Some(describe) = engine.recover().await else {
            return false;
        };
        self.view.notice.set(Some(format!(
            "The GPU device was lost; the model was started again ({describe}) without reloading the page."
        )));
        self.view.status.set(ModelStatus::Ready(describe));
        self.view.fallback.set(engine.info().fallback);
        true
    }

    /// A fault drill: the GPU device under the model is destroyed, as a driver reset or a
    /// `device.destroy()` would, just as the next call starts, for tests of the recovery. Only
    /// a model in the page has its device here (the worker's is the worker's); returns false,
    /// arming nothing, while no model is ready.
    pub fn lose_device(&self) -> bool {
        let ready = matches!(self.view.status.get_untracked(), ModelStatus::Ready(_));
        self.drill.set(ready);
        ready
    }

    /// Takes the model for a call (a pending drill destroys its device first).
    fn take_model(&self) -> Option<Engine> {
        let engine = self.model.borrow_mut().take();
        if let Some(Engine::Local(runtime)) = &engine {
            if self.drill.take() {
                runtime.lose_device();
            }
        }
        engine
    }

    /// Whether the model is loaded and no call is using it.
    pub fn is_free(&self) -> bool {
        self.model.borrow().is_some()
    }

    /// Runs `job` on the model when it is loaded and free (the Ask and Plan demos' calls), then
    /// lets the dream go on. Returns false, and runs nothing, while the model is loading or busy.
    pub fn run_job<F, Fut>(&self, job: F) -> bool
    where
        F: FnOnce(Engine) -> Fut + 'static,
        Fut: std::future::Future<Output = Engine> + 'static,
    {
        let Some(runtime) = self.take_model() else {
            return false;
        };
        let this = self.clone();
        spawn_local(async move {
            let mut runtime = job(runtime).await;
            this.recover(&mut runtime).await;
            *this.model.borrow_mut() = Some(runtime);
            this.pump();
        });
        true
    }

    /// Has the model draw the scene `words` describes and dreams on from that picture instead
    /// of the simulator's first frame. Refused, with a notice, while the model is busy or for
    /// words it does not know.
    pub fn draw_from_words(&self, text: &str) {
        let words = match world::language::vocab::tokenize(text) {
            Ok(words) => words,
            Err(unknown) => {
                self.view.notice.set(Some(format!(
                    "The model cannot draw that sentence: {unknown}"
                )));
                return;
            }
        };
        let Some(mut runtime) = self.take_model() else {
            self.view.notice.set(Some(
                "The model is busy (loading or dreaming): try again in a moment.".into(),
            ));
            return;
        };
        let this = self.clone();
        let generation = self.generation.get();
        spawn_local(async move {
            let drawn = runtime.prompt_to_frame(&words).await;
            *this.model.borrow_mut() = Some(runtime);
            if generation == this.generation.get() {
                match drawn {
                    Ok(frame) => {
                        this.dream.borrow_mut().start_from(frame);
                        this.view.notice.set(Some(
                            "The model read the words into its state (which things, how big, where) and drew the first frame from it; it dreams on from its own picture.".into(),
                        ));
                        this.show();
                    }
                    Err(e) => this
                        .view
                        .notice
                        .set(Some(format!("The model could not draw the scene: {e}"))),
                }
            }
            this.pump();
        });
    }

    /// Paints the latest dreamed frame (the scene's first frame before any step).
    pub fn show(&self) {
        let Some(canvas) = self.canvas.get_untracked() else {
            return;
        };
        let rgba = self.dream.borrow().latest().map(rgb_to_rgba);
        if let Some(rgba) = rgba {
            if let Err(e) = paint(&canvas, &rgba, MODEL_VIEW_SIZE) {
                self.view.notice.set(Some(e.to_string()));
            }
        }
    }
}
