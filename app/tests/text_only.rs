//! Nothing a visitor types or links to is ever parsed as HTML: the page's sources set no
//! markup from strings (Leptos renders every string as a text node), so a hostile prompt,
//! question or address stays text. The end-to-end checks show it in the browser; this keeps
//! the sources from growing a way around it.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

#[test]
fn no_source_sets_markup_from_a_string() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 20, "found only {} sources", files.len());
    let forbidden = [
        "inner_html",
        "outer_html",
        "insert_adjacent_html",
        "document_write",
        "create_contextual_fragment",
        "DOMParser",
    ];
    let found: Vec<String> = files
        .iter()
        .flat_map(|(path, text)| {
            forbidden
                .iter()
                .filter(|f| text.contains(*f))
                .map(move |f| format!("{path}: {f}"))
        })
        .collect();
    assert!(found.is_empty(), "markup set from strings: {found:?}");
}
