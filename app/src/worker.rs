//! The model's Web Worker: loads the student (progress, cache, checks and warm-up as
//! [`crate::model::load`] does them) and answers the page's requests one at a time, so a model
//! pass on the CPU path never blocks the page. Its messages are [`crate::engine`]'s.

use std::cell::RefCell;
use std::rc::Rc;

use runtime::Runtime;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::engine::{decode, encode, serve, FromWorker, Info, Request, Response};
use crate::url_state::Backend;

/// The backend the page asked for, in the worker's own address (`?backend=webgpu`), read by
/// the page's own address parser.
fn backend_asked() -> Backend {
    let search = js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|location| js_sys::Reflect::get(&location, &"search".into()))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    crate::url_state::PageState::from_query(&search).0.backend
}

/// Runs in the worker: starts loading and listens for requests.
pub fn run() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let model: Rc<RefCell<Option<Runtime>>> = Rc::new(RefCell::new(None));
    let post = {
        let scope = scope.clone();
        move |message: &FromWorker| {
            if let Err(e) = scope.post_message(&encode(message)) {
                web_sys::console::error_1(&e);
            }
        }
    };

    let onmessage = Closure::<dyn Fn(MessageEvent)>::new({
        let model = model.clone();
        let post = post.clone();
        move |event: MessageEvent| {
            let Some(request) = decode::<Request>(&event.data()) else {
                post(&FromWorker::Answer(
                    Response::Failed("the worker got a request it cannot read".into()),
                    None,
                ));
                return;
            };
            let model = model.clone();
            let post = post.clone();
            spawn_local(async move {
                let taken = model.borrow_mut().take();
                let answer = match taken {
                    None => FromWorker::Answer(
                        Response::Failed("the model is still loading or busy".into()),
                        None,
                    ),
                    Some(mut runtime) => {
                        let response = serve(&mut runtime, request).await;
                        let rebuilt = if runtime.gpu_lost() {
                            runtime.rebuild().await;
                            Some(runtime.describe())
                        } else {
                            None
                        };
                        *model.borrow_mut() = Some(runtime);
                        FromWorker::Answer(response, rebuilt)
                    }
                };
                post(&answer);
            });
        }
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget(); // the worker's whole life

    spawn_local(async move {
        let progress = post.clone();
        match crate::model::load(crate::engine::prefer(backend_asked()), move |step| {
            progress(&FromWorker::Progress(step))
        })
        .await
        {
            Ok(runtime) => {
                let info = Info::of(&runtime);
                *model.borrow_mut() = Some(runtime);
                post(&FromWorker::Ready(info));
            }
            Err(problem) => post(&FromWorker::LoadFailed(problem)),
        }
    });
}
