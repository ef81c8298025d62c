//! Loading the student in the page: the manifest, then the weights with a progress report,
//! checked against the manifest's sha256 (by `runtime::Runtime::load`), kept in the Cache API
//! so a second visit loads without the network, and a warm-up pass so the first real frame
//! does not wait for shader compilation.

use js_sys::{Reflect, Uint8Array};
use runtime::{Prefer, Runtime};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStreamDefaultReader, Response};

/// Where the exported student lives, next to the page.
pub const MANIFEST_URL: &str = "weights/manifest.json";
/// The Cache API store for the model's files.
const CACHE_NAME: &str = "world-model-weights";

/// How far loading has come, for the loading screen.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Loading {
    Manifest,
    /// Weights bytes received of the total.
    Weights {
        received: u64,
        total: u64,
        cached: bool,
    },
    /// A download failed and is tried again after a pause.
    Retrying {
        problem: String,
        /// The attempt about to be made, from 2.
        attempt: u32,
        wait_ms: u32,
    },
    Checking,
    WarmingUp,
}

/// Downloads of the weights made before giving up (the first and three retries).
pub const ATTEMPTS: u32 = 4;
/// The pause before the second attempt; each later pause doubles.
const FIRST_BACKOFF_MS: u32 = 500;

impl Loading {
    /// A fraction for the progress bar, from 0 to 1.
    pub fn fraction(&self) -> f64 {
        match self {
            Loading::Manifest => 0.0,
            Loading::Weights {
                received, total, ..
            } => 0.05 + 0.8 * (*received as f64 / (*total).max(1) as f64).min(1.0),
            Loading::Retrying { .. } => 0.05,
            Loading::Checking => 0.88,
            Loading::WarmingUp => 0.95,
        }
    }

    /// The step in words.
    pub fn describe(&self) -> String {
        match self {
            Loading::Manifest => "Fetching the model's manifest…".into(),
            Loading::Weights {
                received,
                total,
                cached: true,
            } => format!(
                "Reading the weights from this browser's cache ({} kB)…",
                total.max(received) / 1000
            ),
            Loading::Weights {
                received, total, ..
            } => format!(
                "Downloading the weights: {} of {} kB…",
                received / 1000,
                total / 1000
            ),
            Loading::Retrying {
                problem,
                attempt,
                wait_ms,
            } => format!(
                "{problem}; trying again in {:.1} s (attempt {attempt} of {ATTEMPTS})…",
                *wait_ms as f64 / 1000.0
            ),
            Loading::Checking => "Checking the weights (sha256) and starting the model…".into(),
            Loading::WarmingUp => "Warming up (the first pass compiles the GPU kernels)…".into(),
        }
    }
}

fn js_error(what: &str, e: JsValue) -> String {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    format!("{what}: {detail}")
}

/// The page's window or the worker's global scope: both fetch and have caches.
enum Scope {
    Window(web_sys::Window),
    Worker(web_sys::WorkerGlobalScope),
}

fn scope() -> Option<Scope> {
    let global = js_sys::global();
    if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        return Some(Scope::Window(w.clone()));
    }
    global
        .dyn_ref::<web_sys::WorkerGlobalScope>()
        .map(|w| Scope::Worker(w.clone()))
}

async fn cache() -> Option<Cache> {
    let caches = match scope()? {
        Scope::Window(w) => w.caches().ok()?,
        Scope::Worker(w) => w.caches().ok()?,
    };
    let opened = JsFuture::from(caches.open(CACHE_NAME)).await.ok()?;
    opened.dyn_into::<Cache>().ok()
}

async fn cached(cache: &Option<Cache>, url: &str) -> Option<Response> {
    let found = JsFuture::from(cache.as_ref()?.match_with_str(url))
        .await
        .ok()?;
    found.dyn_into::<Response>().ok()
}

/// Why a fetch failed, and whether trying again could help (the network or the server's
/// trouble: yes; 404 and other client errors: no).
struct Failed {
    problem: String,
    retry: bool,
}

impl From<String> for Failed {
    fn from(problem: String) -> Failed {
        Failed {
            problem,
            retry: false,
        }
    }
}

async fn fetch(url: &str) -> Result<Response, String> {
    fetch_once(url).await.map_err(|f| f.problem)
}

async fn fetch_once(url: &str) -> Result<Response, Failed> {
    let request = match scope()
        .ok_or_else(|| "neither a window nor a worker: nothing can fetch".to_string())?
    {
        Scope::Window(w) => w.fetch_with_str(url),
        Scope::Worker(w) => w.fetch_with_str(url),
    };
    let response = JsFuture::from(request)
        .await
        .map_err(|e| Failed {
            problem: js_error(&format!("fetching {url} failed"), e),
            retry: true,
        })?
        .dyn_into::<Response>()
        .map_err(|_| format!("fetching {url} gave no response"))?;
    if !response.ok() {
        return Err(Failed {
            problem: format!(
                "fetching {url} failed: HTTP {} {}",
                response.status(),
                response.status_text()
            ),
            retry: response.status() >= 500 || response.status() == 408 || response.status() == 429,
        });
    }
    Ok(response)
}

async fn text(response: Response, url: &str) -> Result<String, String> {
    let promise = response.text().map_err(|e| js_error(url, e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| js_error(&format!("reading {url}"), e))?
        .as_string()
        .ok_or_else(|| format!("{url} is not text"))
}

/// Reads a response body chunk by chunk, telling `progress` the bytes so far.
async fn body(
    response: Response,
    url: &str,
    mut progress: impl FnMut(u64),
) -> Result<Vec<u8>, String> {
    let stream = response
        .body()
        .ok_or_else(|| format!("{url} has no body"))?;
    let reader = stream
        .get_reader()
        .dyn_into::<ReadableStreamDefaultReader>()
        .map_err(|_| format!("{url}: the body cannot be read in chunks"))?;
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| js_error(&format!("downloading {url}"), e))?;
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(|e| js_error(url, e))?;
        bytes.extend(Uint8Array::new(&value).to_vec());
        progress(bytes.len() as u64);
    }
    Ok(bytes)
}

/// Downloads the weights, retrying with back-off (0.5, 1, 2 s) when the server errs, the
/// connection drops or fewer bytes than the manifest's arrive; the error names the last
/// problem and how many attempts were made. Nothing here is cached: only bytes that then pass
/// every check are.
async fn download(
    url: &str,
    total: u64,
    report: &mut impl FnMut(Loading),
) -> Result<Vec<u8>, String> {
    let (mut attempt, mut wait_ms) = (1, FIRST_BACKOFF_MS);
    loop {
        let got = match fetch_once(url).await {
            Ok(response) => body(response, url, |received| {
                report(Loading::Weights {
                    received,
                    total,
                    cached: false,
                })
            })
            .await
            .map_err(|problem| Failed {
                problem,
                retry: true,
            })
            .and_then(|bytes| match bytes.len() as u64 {
                n if n < total => Err(Failed {
                    problem: format!("the download of {url} stopped at {n} of {total} bytes"),
                    retry: true,
                }),
                _ => Ok(bytes),
            }),
            Err(failed) => Err(failed),
        };
        match got {
            Ok(bytes) => return Ok(bytes),
            Err(f) if f.retry && attempt < ATTEMPTS => {
                report(Loading::Retrying {
                    problem: f.problem,
                    attempt: attempt + 1,
                    wait_ms,
                });
                gloo::timers::future::TimeoutFuture::new(wait_ms).await;
                attempt += 1;
                wait_ms *= 2;
            }
            Err(f) if f.retry => {
                return Err(format!(
                "{} (gave up after {ATTEMPTS} attempts); check the connection and reload the page",
                f.problem
            ))
            }
            Err(f) => return Err(f.problem),
        }
    }
}

async fn store(cache: &Option<Cache>, url: &str, bytes: &[u8]) {
    let Some(cache) = cache else {
        return;
    };
    let mut copy = bytes.to_vec();
    if let Ok(response) = Response::new_with_opt_u8_array(Some(&mut copy)) {
        // A full quota only costs the next visit a download.
        let _ = JsFuture::from(cache.put_with_str(url, &response)).await;
    }
}

/// The bytes of weights file `file` (`weights/<file>`, `total` bytes): from the cache when the
/// cached copy has this sha256, else downloaded (then cached). The cache key names the hash, so
/// new weights never meet an old copy; the caller checks the bytes.
async fn weights_file(
    cache: &Option<Cache>,
    file: &str,
    total: u64,
    sha256: &str,
    report: &mut impl FnMut(Loading),
) -> Result<Vec<u8>, String> {
    let url = format!("weights/{file}");
    let key = format!("{url}?sha256={sha256}");
    if let Some(response) = cached(cache, &key).await {
        let bytes = body(response, &key, |received| {
            report(Loading::Weights {
                received,
                total,
                cached: true,
            })
        })
        .await;
        if let Some(bytes) = bytes.ok().filter(|b| layout::weights::sha256_hex(b) == sha256) {
            return Ok(bytes);
        }
    }
    let bytes = download(&url, total, report).await?;
    if layout::weights::sha256_hex(&bytes) == sha256 {
        store(cache, &key, &bytes).await;
    }
    Ok(bytes)
}

/// Loads the student from next to the page: the network first for the manifest (the cache
/// when offline), the weights from the cache when the cached copy is the manifest's (same
/// sha256), else downloaded and then cached. `report` hears each step. Runs where `backend`
/// says ([`Prefer::Auto`]: a hardware GPU when there is one, else the CPU path;
/// `Runtime::fallback_reason` says why it is not on a GPU).
pub async fn load(backend: Prefer, mut report: impl FnMut(Loading)) -> Result<Runtime, String> {
    report(Loading::Manifest);
    let cache = cache().await;
    let manifest_text = match fetch(MANIFEST_URL).await {
        Ok(response) => {
            let text = text(response, MANIFEST_URL).await?;
            store(&cache, MANIFEST_URL, text.as_bytes()).await;
            text
        }
        Err(network) => match cached(&cache, MANIFEST_URL).await {
            Some(response) => text(response, MANIFEST_URL).await?,
            None => return Err(network),
        },
    };
    let manifest =
        layout::weights::parse_manifest(&manifest_text, MANIFEST_URL).map_err(|e| e.explained())?;
    let weights = weights_file(&cache, &manifest.weights_file, manifest.bytes, &manifest.sha256, &mut report).await?;
    report(Loading::Checking);
    let mut runtime = Runtime::load(&manifest_text, &weights, backend)
        .await
        .map_err(|e| format!("the model could not be loaded: {}", e.explained()))?;
    // The frame predictor and the state nets, when the manifest lists them.
    for (role, net) in runtime.nets() {
        let bytes = weights_file(&cache, &net.file, net.bytes, &net.sha256, &mut report).await?;
        report(Loading::Checking);
        runtime
            .attach(&role, &bytes)
            .map_err(|e| format!("the model's {role} weights could not be loaded: {}", e.explained()))?;
    }
    report(Loading::WarmingUp);
    let blank = vec![0u8; crate::dream::RGB_BYTES];
    runtime
        .imagine([&blank, &blank], 0, &[0], 0.0, 0)
        .await
        .map_err(|e| format!("the model's first pass failed: {e}"))?;
    Ok(runtime)
}
