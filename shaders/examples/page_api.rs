//! The runtime's page-facing API linked into one wasm32 export, so `scripts/wasm_size.sh` can
//! measure the bytes the runtime adds to a page (against `page_baseline.rs`). Natively it does
//! nothing.

#[cfg(target_arch = "wasm32")]
mod web {
    use layout::cem::CemConfig;
    use runtime::{Prefer, Runtime};
    use wasm_bindgen::prelude::*;

    /// Loads the student and calls every operation once; returns a summary line.
    #[wasm_bindgen]
    pub async fn exercise(manifest: String, weights: Vec<u8>) -> Result<String, JsValue> {
        let err = |e: String| JsValue::from_str(&e);
        let mut rt = Runtime::load(&manifest, &weights, Prefer::Auto)
            .await
            .map_err(|e| err(e.to_string()))?;
        let frame = vec![0u8; 64 * 64 * 3];
        let dream = rt
            .imagine([&frame, &frame], 0, &[1, 2], 0.8, 7)
            .await
            .map_err(|e| err(e.to_string()))?;
        let first = rt
            .prompt_to_frame(&[5, 6])
            .await
            .map_err(|e| err(e.to_string()))?;
        let plan = rt
            .plan([&frame, &frame], &[5], &CemConfig::default(), &[], 1)
            .await
            .map_err(|e| err(e.to_string()))?;
        let frames: Vec<&[u8]> = vec![&frame, &frame];
        let answer = rt
            .answer(&frames, &[0, 1], &[5, 6])
            .await
            .map_err(|e| err(e.to_string()))?;
        let caption = rt
            .caption(&frames, &[0, 1])
            .await
            .map_err(|e| err(e.to_string()))?;
        Ok(format!(
            "{} {} {} {} {} {}",
            rt.describe(),
            dream.len(),
            first.len(),
            plan.actions.len(),
            answer.len(),
            caption.len()
        ))
    }
}

fn main() {}
