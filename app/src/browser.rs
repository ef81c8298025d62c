//! The browser glue the components share: the address bar, painting pixels onto canvases, a
//! loop on animation frames, and panics shown in the page rather than only in the console.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo::render::{request_animation_frame, AnimationFrame};
use wasm_bindgen::{Clamped, JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use crate::url_state::{PageState, UrlNotice};

/// What can go wrong talking to the browser, with what to do about it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BrowserError {
    #[error("no browser window was found: open the playground as a web page")]
    NoWindow,
    #[error("the canvas gave no 2D drawing context: the browser may be short of graphics memory; close other tabs and reload")]
    NoDrawingContext,
    #[error("{what} failed ({message}); reload the page")]
    Js { what: &'static str, message: String },
}

fn js_error(what: &'static str) -> impl FnOnce(JsValue) -> BrowserError {
    move |value| BrowserError::Js {
        what,
        message: value.as_string().unwrap_or_else(|| format!("{value:?}")),
    }
}

fn window() -> Result<web_sys::Window, BrowserError> {
    web_sys::window().ok_or(BrowserError::NoWindow)
}

/// The page state in the address bar, and what was wrong with it.
pub fn read_page_state() -> (PageState, Vec<UrlNotice>) {
    let query = window().and_then(|w| {
        w.location()
            .search()
            .map_err(js_error("reading the address"))
    });
    PageState::from_query(&query.unwrap_or_default())
}

/// Puts `state` in the address bar without adding a history entry, so a copied link
/// reproduces what is on screen.
pub fn write_page_state(state: &PageState) -> Result<(), BrowserError> {
    let window = window()?;
    let location = window.location();
    let path = location
        .pathname()
        .map_err(js_error("reading the address"))?;
    let hash = location.hash().map_err(js_error("reading the address"))?;
    let url = format!("{path}{}{hash}", state.to_query());
    window
        .history()
        .and_then(|history| history.replace_state_with_url(&JsValue::NULL, "", Some(&url)))
        .map_err(js_error("updating the address"))
}

/// Copies RGBA pixels (`size` x `size`, 4 bytes each, as `world::render` draws them) onto
/// `canvas`, whose drawing buffer must be that size.
pub fn paint(canvas: &HtmlCanvasElement, rgba: &[u8], size: u32) -> Result<(), BrowserError> {
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(js_error("getting the canvas context"))?
        .and_then(|context| context.dyn_into().ok())
        .ok_or(BrowserError::NoDrawingContext)?;
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), size, size)
        .map_err(js_error("making an image from the frame"))?;
    context
        .put_image_data(&image, 0.0, 0.0)
        .map_err(js_error("drawing the frame"))
}

/// Calls a function on every animation frame (with the frame's timestamp, milliseconds) until
/// dropped. Browsers pause animation frames in hidden tabs, which pauses the simulation too.
pub struct FrameLoop {
    /// The next scheduled frame; dropping it cancels the loop.
    _next: Rc<RefCell<Option<AnimationFrame>>>,
}

impl FrameLoop {
    pub fn start(on_frame: impl FnMut(f64) + 'static) -> FrameLoop {
        let next = Rc::new(RefCell::new(None));
        schedule(Rc::downgrade(&next), Rc::new(RefCell::new(on_frame)));
        FrameLoop { _next: next }
    }
}

fn schedule(slot: Weak<RefCell<Option<AnimationFrame>>>, on_frame: Rc<RefCell<dyn FnMut(f64)>>) {
    let Some(live) = slot.upgrade() else { return };
    let frame = request_animation_frame(move |now| {
        (on_frame.borrow_mut())(now);
        schedule(slot, on_frame);
    });
    // Replacing the frame that is running now is fine: it has fired and cancels nothing.
    *live.borrow_mut() = Some(frame);
}

/// A fresh seed for the "new scene" button: short enough to read out and type.
pub fn random_seed() -> u64 {
    (js_sys::Math::random() * 1_000_000.0) as u64
}

/// Makes a panic show a message at the top of the page (and in the console, with its
/// location), so a bug never leaves a silently frozen page.
pub fn show_panics_in_page() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let message = format!(
            "The playground stopped because of a bug ({info}). Reload the page to start again: \
             the address keeps your seed."
        );
        // Nothing more can be done if even this fails; the console has the details.
        let _ = show_fatal_error(&message);
    }));
}

fn show_fatal_error(message: &str) -> Option<()> {
    let document = web_sys::window()?.document()?;
    let banner = document.create_element("div").ok()?;
    banner.set_class_name("fatal");
    banner.set_attribute("role", "alert").ok()?;
    banner.set_attribute("data-testid", "fatal-error").ok()?;
    // Text, never markup: the message may quote anything.
    banner.set_text_content(Some(message));
    document.body()?.prepend_with_node_1(&banner).ok()
}
