//! Mounts the playground into the page.

#[cfg(target_arch = "wasm32")]
fn main() {
    app::browser::show_panics_in_page();
    leptos::mount::mount_to_body(app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "The playground is a web page: run `bash scripts/setup.sh` and open http://127.0.0.1:8080"
    );
    std::process::exit(2);
}
