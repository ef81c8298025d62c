//! The model's Web Worker (built by trunk beside the page; see `app::worker`).

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    app::worker::run();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The model's worker runs in the browser, started by the playground page.");
    std::process::exit(2);
}
