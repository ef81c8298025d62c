//! The model as the demos call it. In the page it normally lives in a Web Worker
//! ([`crate::worker`]), so that a model pass on the CPU path never blocks the page: each call
//! is a message there and a reply back. Where no worker can start (and in tests) it runs in
//! the page itself. Both answer the same calls with the same results.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::oneshot;
use layout::cem::CemConfig;
use runtime::plan::PlanResult;
use runtime::{DreamInside, Reply, Runtime};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use crate::model::Loading;
use crate::url_state::Backend;

/// The worker's script: trunk's loader shim for the `worker` binary, next to the page.
pub const WORKER_URL: &str = "./worker_loader.js";

/// A call to the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    Imagine {
        context: [Vec<u8>; 2],
        /// The move that led to the last context frame.
        last: u8,
        actions: Vec<u8>,
        temperature: f32,
        seed: u32,
    },
    PromptToFrame {
        words: Vec<u16>,
    },
    Plan {
        /// How the scene is seen (the state nets imagine gravity from the side).
        view: world::scene::View,
        context: [Vec<u8>; 2],
        /// The move that led to the last context frame.
        last: u8,
        goal: Vec<u16>,
        settings: CemConfig,
        warm: Vec<u8>,
        seed: u32,
    },
    Ask {
        frames: Vec<Vec<u8>>,
        actions: Vec<u8>,
        question: Vec<u16>,
    },
    Caption {
        frames: Vec<Vec<u8>>,
        actions: Vec<u8>,
    },
    ExplainDream {
        context: [Vec<u8>; 2],
        /// The move that led to the last context frame.
        last: u8,
        action: u8,
        temperature: f32,
        seed: u32,
    },
}

/// The model's answer to a [`Request`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response {
    Frames(Vec<Vec<u8>>),
    Frame(Vec<u8>),
    Plan(PlanResult),
    Reply(Reply),
    Words(Vec<(u16, f32)>),
    DreamInside(Box<DreamInside>),
    Failed(String),
}

/// What the loaded model says about itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Info {
    /// The backend in words ("GPU: ...", "CPU").
    pub describe: String,
    /// Why it runs on the CPU path, when it does.
    pub fallback: Option<String>,
    /// The manifest's evaluation, as JSON.
    pub eval: String,
}

impl Info {
    pub fn of(runtime: &Runtime) -> Info {
        Info {
            describe: runtime.describe(),
            fallback: runtime.fallback_reason.clone(),
            eval: runtime.manifest.eval.to_string(),
        }
    }
}

/// Every message from the worker to the page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum FromWorker {
    Progress(Loading),
    Ready(Info),
    LoadFailed(String),
    /// The answer to the last request, and the model's new description when its GPU device
    /// was lost and it was started again meanwhile.
    Answer(Response, Option<String>),
}

/// Bytes of a message, for `postMessage`.
pub fn encode<T: Serialize>(message: &T) -> js_sys::Uint8Array {
    let bytes = bincode::serialize(message).expect("messages always serialize");
    js_sys::Uint8Array::from(&bytes[..])
}

/// A message back from its bytes; `None` for anything else.
pub fn decode<T: for<'de> Deserialize<'de>>(data: &JsValue) -> Option<T> {
    let bytes = data.dyn_ref::<js_sys::Uint8Array>()?.to_vec();
    bincode::deserialize(&bytes).ok()
}

/// Runs one request on a loaded runtime.
pub async fn serve(runtime: &mut Runtime, request: Request) -> Response {
    fn answer<T>(result: Result<T, runtime::RuntimeError>, wrap: fn(T) -> Response) -> Response {
        result
            .map(wrap)
            .unwrap_or_else(|e| Response::Failed(e.to_string()))
    }
    match request {
        Request::Imagine {
            context,
            last,
            actions,
            temperature,
            seed,
        } => answer(
            runtime
                .imagine([&context[0], &context[1]], last, &actions, temperature, seed)
                .await,
            Response::Frames,
        ),
        Request::PromptToFrame { words } => {
            answer(runtime.prompt_to_frame(&words).await, Response::Frame)
        }
        Request::Plan {
            view,
            context,
            last,
            goal,
            settings,
            warm,
            seed,
        } => answer(
            runtime
                .plan_in(view, [&context[0], &context[1]], last, &goal, &settings, &warm, seed)
                .await,
            Response::Plan,
        ),
        Request::Ask {
            frames,
            actions,
            question,
        } => {
            let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            answer(
                runtime.ask(&frames, &actions, &question).await,
                Response::Reply,
            )
        }
        Request::Caption { frames, actions } => {
            let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            answer(runtime.caption(&frames, &actions).await, Response::Words)
        }
        Request::ExplainDream {
            context,
            last,
            action,
            temperature,
            seed,
        } => answer(
            runtime
                .explain_dream([&context[0], &context[1]], last, action, temperature, seed)
                .await,
            |inside| Response::DreamInside(Box::new(inside)),
        ),
    }
}

/// The model in a worker, as the page holds it.
pub struct Remote {
    worker: Worker,
    /// Where the next answer goes.
    inbox: Rc<RefCell<Option<oneshot::Sender<(Response, Option<String>)>>>>,
    info: Info,
    /// Set when the worker started its model again after a lost GPU device.
    rebuilt: Option<String>,
}

/// The model, in a worker or in the page.
pub enum Engine {
    Local(Box<Runtime>),
    Remote(Remote),
}

/// The runtime's name for where the address asks the model to run.
pub fn prefer(backend: Backend) -> runtime::Prefer {
    match backend {
        Backend::Auto => runtime::Prefer::Auto,
        Backend::WebGpu => runtime::Prefer::Gpu,
        Backend::Cpu => runtime::Prefer::Cpu,
    }
}

/// Starts the worker, which loads the model on `backend`. `on_message` hears everything it
/// says except answers, which go to the pending call; `on_error` hears that the script could
/// not run.
pub fn start_worker(
    backend: Backend,
    on_message: impl Fn(FromWorker) + 'static,
    on_error: impl Fn(String) + 'static,
) -> Result<(Worker, Inbox), String> {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Classic);
    // The worker reads the backend from its own address.
    let url = format!("{WORKER_URL}?backend={}", backend.key());
    let worker = Worker::new_with_options(&url, &options)
        .map_err(|e| format!("the model's worker could not start: {e:?}"))?;
    let inbox: Inbox = Rc::new(RefCell::new(None));
    let answers = inbox.clone();
    let on_error = Rc::new(on_error);
    let unreadable = on_error.clone();
    let onmessage = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        match decode::<FromWorker>(&event.data()) {
            Some(FromWorker::Answer(response, rebuilt)) => {
                if let Some(reply) = answers.borrow_mut().take() {
                    let _ = reply.send((response, rebuilt));
                }
            }
            Some(other) => on_message(other),
            None => unreadable("the model's worker sent a message the page cannot read".into()),
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget(); // one worker for the page's life
    let pending = inbox.clone();
    let onerror = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
        let problem = format!("the model's worker failed: {}", event.message());
        // A call waiting for an answer gets the failure instead of waiting forever.
        if let Some(reply) = pending.borrow_mut().take() {
            let _ = reply.send((Response::Failed(problem.clone()), None));
        }
        on_error(problem)
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    onerror.forget();
    Ok((worker, inbox))
}

/// Where a worker's answers are delivered.
pub type Inbox = Rc<RefCell<Option<oneshot::Sender<(Response, Option<String>)>>>>;

impl Remote {
    pub fn new(worker: Worker, inbox: Inbox, mut info: Info) -> Remote {
        info.describe = format!("{}, in a background worker", info.describe);
        Remote {
            worker,
            inbox,
            info,
            rebuilt: None,
        }
    }

    async fn call(&mut self, request: Request) -> Response {
        let (tx, rx) = oneshot::channel();
        *self.inbox.borrow_mut() = Some(tx);
        if let Err(e) = self.worker.post_message(&encode(&request)) {
            return Response::Failed(format!("the model's worker cannot be reached: {e:?}"));
        }
        match rx.await {
            Ok((response, rebuilt)) => {
                if let Some(describe) = rebuilt {
                    self.info.describe = format!("{describe}, in a background worker");
                    self.rebuilt = Some(self.info.describe.clone());
                }
                response
            }
            Err(_) => Response::Failed("the model's worker stopped answering".into()),
        }
    }
}

fn unexpected<T>(r: Response) -> Result<T, String> {
    match r {
        Response::Failed(e) => Err(e),
        other => Err(format!("the model answered something else: {other:?}")),
    }
}

impl Engine {
    pub fn info(&self) -> Info {
        match self {
            Engine::Local(r) => Info::of(r),
            Engine::Remote(r) => r.info.clone(),
        }
    }

    /// After a call: when the GPU device was lost, the model is started again (in the worker,
    /// or here) and its new description returned, for the page to say what happened.
    pub async fn recover(&mut self) -> Option<String> {
        match self {
            Engine::Local(r) if r.gpu_lost() => {
                r.rebuild().await;
                Some(r.describe())
            }
            Engine::Local(_) => None,
            Engine::Remote(r) => r.rebuilt.take(),
        }
    }

    pub async fn imagine(
        &mut self,
        context: [&[u8]; 2],
        last: u8,
        actions: &[u8],
        temperature: f32,
        seed: u32,
    ) -> Result<Vec<Vec<u8>>, String> {
        match self {
            Engine::Local(r) => r
                .imagine(context, last, actions, temperature, seed)
                .await
                .map_err(|e| e.to_string()),
            Engine::Remote(r) => match r
                .call(Request::Imagine {
                    context: [context[0].to_vec(), context[1].to_vec()],
                    last,
                    actions: actions.to_vec(),
                    temperature,
                    seed,
                })
                .await
            {
                Response::Frames(f) => Ok(f),
                other => unexpected(other),
            },
        }
    }

    pub async fn prompt_to_frame(&mut self, words: &[u16]) -> Result<Vec<u8>, String> {
        match self {
            Engine::Local(r) => r.prompt_to_frame(words).await.map_err(|e| e.to_string()),
            Engine::Remote(r) => match r
                .call(Request::PromptToFrame {
                    words: words.to_vec(),
                })
                .await
            {
                Response::Frame(f) => Ok(f),
                other => unexpected(other),
            },
        }
    }

    pub async fn plan(
        &mut self,
        view: world::scene::View,
        context: [&[u8]; 2],
        last: u8,
        goal: &[u16],
        settings: &CemConfig,
        warm: &[u8],
        seed: u32,
    ) -> Result<PlanResult, String> {
        match self {
            Engine::Local(r) => r
                .plan_in(view, context, last, goal, settings, warm, seed)
                .await
                .map_err(|e| e.to_string()),
            Engine::Remote(r) => match r
                .call(Request::Plan {
                    view,
                    context: [context[0].to_vec(), context[1].to_vec()],
                    last,
                    goal: goal.to_vec(),
                    settings: settings.clone(),
                    warm: warm.to_vec(),
                    seed,
                })
                .await
            {
                Response::Plan(p) => Ok(p),
                other => unexpected(other),
            },
        }
    }

    pub async fn ask(
        &mut self,
        frames: &[&[u8]],
        actions: &[u8],
        question: &[u16],
    ) -> Result<Reply, String> {
        match self {
            Engine::Local(r) => r
                .ask(frames, actions, question)
                .await
                .map_err(|e| e.to_string()),
            Engine::Remote(r) => match r
                .call(Request::Ask {
                    frames: frames.iter().map(|f| f.to_vec()).collect(),
                    actions: actions.to_vec(),
                    question: question.to_vec(),
                })
                .await
            {
                Response::Reply(reply) => Ok(reply),
                other => unexpected(other),
            },
        }
    }

    pub async fn caption(
        &mut self,
        frames: &[&[u8]],
        actions: &[u8],
    ) -> Result<Vec<(u16, f32)>, String> {
        match self {
            Engine::Local(r) => r.caption(frames, actions).await.map_err(|e| e.to_string()),
            Engine::Remote(r) => match r
                .call(Request::Caption {
                    frames: frames.iter().map(|f| f.to_vec()).collect(),
                    actions: actions.to_vec(),
                })
                .await
            {
                Response::Words(w) => Ok(w),
                other => unexpected(other),
            },
        }
    }

    pub async fn explain_dream(
        &mut self,
        context: [&[u8]; 2],
        last: u8,
        action: u8,
        temperature: f32,
        seed: u32,
    ) -> Result<DreamInside, String> {
        match self {
            Engine::Local(r) => r
                .explain_dream(context, last, action, temperature, seed)
                .await
                .map_err(|e| e.to_string()),
            Engine::Remote(r) => match r
                .call(Request::ExplainDream {
                    context: [context[0].to_vec(), context[1].to_vec()],
                    last,
                    action,
                    temperature,
                    seed,
                })
                .await
            {
                Response::DreamInside(inside) => Ok(*inside),
                other => unexpected(other),
            },
        }
    }
}
