//! The baseline of `scripts/wasm_size.sh`: one async wasm32 export like `page_api.rs`'s,
//! without the runtime.

#[cfg(target_arch = "wasm32")]
mod web {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    pub async fn exercise(manifest: String, weights: Vec<u8>) -> Result<String, JsValue> {
        Ok(format!("{} {}", manifest.len(), weights.len()))
    }
}

fn main() {}
