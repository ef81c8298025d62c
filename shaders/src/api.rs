//! What the page calls: [`Runtime`] loads the exported student, runs it on the GPU when an
//! adapter is granted and on the CPU path otherwise, and offers the playground's verbs on RGB
//! frames, actions and words. Every method is async (read-backs are, on the web).

#[cfg(feature = "gpu")]
use std::sync::Arc;

use layout::cem::CemConfig;
use layout::config::{ModelConfig, FRAME};
use layout::frames::{clip_indices, patchify, unpatchify};
use layout::weights::{check_weights, parse_manifest, LoadError, Manifest, FRAMES_NET, STATE_NET};
use world::language::vocab::{ANS, BOS, EOS};
use world::scene::View;

use crate::cpu::Cpu;
use crate::exec::Exec;
use crate::error::GpuError;
#[cfg(feature = "gpu")]
use crate::frame_gpu::FrameGpu;
use crate::frame_net::{change_and_likeliest, Compose, Dreamer, FrameNet, KeptDream, StageView, Tracked};
use crate::state::{Reading, StateNets, Target};
#[cfg(feature = "gpu")]
use crate::gpu::{Gpu, GpuContext};
#[cfg(feature = "gpu")]
use crate::state_gpu::StateGpu;
use crate::graph;
use crate::plan::{self, PlanResult};

/// Why a runtime call failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RuntimeError {
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error("{0}")]
    Input(String),
}

/// An executor whose results can be read back.
#[allow(async_fn_in_trait)]
pub trait Fetch: Exec {
    async fn fetch(&mut self, t: &Self::T) -> Result<Vec<f32>, GpuError>;
    async fn fetch_ids(&mut self, ids: &Self::I) -> Result<Vec<u32>, GpuError>;
}

impl Fetch for Cpu {
    async fn fetch(&mut self, t: &Self::T) -> Result<Vec<f32>, GpuError> {
        Ok(t.data.to_vec())
    }
    async fn fetch_ids(&mut self, ids: &Self::I) -> Result<Vec<u32>, GpuError> {
        Ok(ids.to_vec())
    }
}

#[cfg(feature = "gpu")]
impl Fetch for Gpu {
    async fn fetch(&mut self, t: &Self::T) -> Result<Vec<f32>, GpuError> {
        self.read(t).await
    }
    async fn fetch_ids(&mut self, ids: &Self::I) -> Result<Vec<u32>, GpuError> {
        self.read_ids(ids).await
    }
}

enum Backend {
    #[cfg(feature = "gpu")]
    Gpu(Box<Gpu>),
    Cpu(Cpu),
}

/// The student, ready to imagine and plan.
pub struct Runtime {
    pub manifest: Manifest,
    backend: Backend,
    /// Kept to rebuild the GPU path after a lost device without reloading anything.
    weights: layout::Weights,
    prefer: Prefer,
    /// Why the GPU is not used, when it is not.
    pub fallback_reason: Option<String>,
    /// The CPU path that records attention, for [`Runtime::explain`]; made on first use.
    explainer: Option<Box<Cpu>>,
    /// The frame predictor, when the manifest lists one ([`Runtime::attach`]): then
    /// [`Runtime::imagine`] dreams with it.
    pub frames: Option<FrameNet>,
    /// Its weights on the GPU, when the runtime runs there: then it dreams there.
    #[cfg(feature = "gpu")]
    frames_gpu: Option<FrameGpu>,
    /// Where the last dream ended, so that a dream asked to go on from its own last two frames
    /// keeps its objects and their tracked state.
    kept_dream: Option<KeptDream>,
    /// How the frame predictor's dreams are drawn ([`Compose::Conserve`] unless set).
    pub compose: Compose,
    /// The reader, dynamics ensemble and goal net, when the manifest lists them: then
    /// [`Runtime::plan_in`] plans with them.
    pub state: Option<StateNets>,
    /// Their dynamics ensemble on the GPU, when the runtime runs there (made at the first plan):
    /// then it plans there.
    #[cfg(feature = "gpu")]
    state_gpu: Option<StateGpu>,
    /// The last frame read and its reading (planning reads the previous frame again at every
    /// move otherwise).
    last_read: Option<(Vec<u8>, Reading)>,
}

/// Where [`Runtime::load`] runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefer {
    /// A hardware GPU when one is granted; otherwise the CPU path, which is faster than a
    /// software WebGPU adapter (SwiftShader, lavapipe) on the same processor.
    Auto,
    /// Any WebGPU adapter, software ones included (tests and benchmarks); the CPU path only
    /// when none is granted.
    Gpu,
    /// The CPU path.
    Cpu,
}

async fn gpu_or_cpu(w: &layout::Weights, prefer: Prefer) -> (Backend, Option<String>) {
    if prefer == Prefer::Cpu {
        return (
            Backend::Cpu(Cpu::new(w.clone())),
            Some("the CPU path was asked for".into()),
        );
    }
    #[cfg(not(feature = "gpu"))]
    return (
        Backend::Cpu(Cpu::new(w.clone())),
        Some("this build has no GPU path (the runtime's `gpu` feature is off)".into()),
    );
    #[cfg(feature = "gpu")]
    match GpuContext::new().await {
        Ok(ctx) if prefer == Prefer::Auto && ctx.info.device_type == wgpu::DeviceType::Cpu => (
            Backend::Cpu(Cpu::new(w.clone())),
            Some(match ctx.info.name.as_str() {
                "" => "the only WebGPU adapter is a software one, slower than the CPU path".into(),
                name => format!(
                    "the only WebGPU adapter is a software one ({name}), slower than the CPU path"
                ),
            }),
        ),
        Ok(ctx) => (Backend::Gpu(Box::new(Gpu::new(Arc::new(ctx), w))), None),
        Err(e) => (Backend::Cpu(Cpu::new(w.clone())), Some(e.to_string())),
    }
}

/// Checks both context frames (t-1 and t).
fn check_context(context: [&[u8]; 2]) -> Result<(), RuntimeError> {
    check_frame(context[0], "the previous frame")?;
    check_frame(context[1], "the current frame")
}

/// Checks a frame is `FRAME x FRAME` RGB.
fn check_frame(f: &[u8], what: &str) -> Result<(), RuntimeError> {
    if f.len() != FRAME * FRAME * 3 {
        return Err(RuntimeError::Input(format!(
            "{what} has {} bytes; a frame is {FRAME}x{FRAME} RGB ({} bytes)",
            f.len(),
            FRAME * FRAME * 3
        )));
    }
    Ok(())
}

impl Runtime {
    /// Loads the manifest's JSON and the weights file's bytes (every check of
    /// `layout::weights`), then picks the GPU or the CPU path as `prefer` says; when it is not
    /// the GPU, [`Runtime::fallback_reason`] says why.
    pub async fn load(
        manifest_json: &str,
        weights: &[u8],
        prefer: Prefer,
    ) -> Result<Runtime, LoadError> {
        let manifest = parse_manifest(manifest_json, "manifest.json")?;
        let w = check_weights(&manifest, weights)?;
        let (backend, fallback_reason) = gpu_or_cpu(&w, prefer).await;
        Ok(Runtime {
            manifest,
            backend,
            weights: w,
            prefer,
            fallback_reason,
            explainer: None,
            frames: None,
            #[cfg(feature = "gpu")]
            frames_gpu: None,
            kept_dream: None,
            compose: Compose::default(),
            state: None,
            #[cfg(feature = "gpu")]
            state_gpu: None,
            last_read: None,
        })
    }

    /// The further weights files the manifest lists ([`Manifest::nets`]), by role.
    pub fn nets(&self) -> Vec<(String, layout::weights::NetFile)> {
        self.manifest
            .nets
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Checks the bytes of the manifest's further file `role` (length, sha256, then every
    /// tensor) and starts using it: [`FRAMES_NET`] dreams, [`STATE_NET`] plans.
    pub fn attach(&mut self, role: &str, bytes: &[u8]) -> Result<(), LoadError> {
        let entry = self.manifest.nets.get(role).ok_or_else(|| LoadError::Manifest {
            path: "manifest.json".into(),
            reason: format!("it lists no \"{role}\" weights"),
        })?;
        entry.check(bytes)?;
        match role {
            FRAMES_NET => {
                let net = FrameNet::from_safetensors(bytes, &entry.file)?;
                #[cfg(feature = "gpu")]
                {
                    self.frames_gpu = self.frame_gpu(&net);
                }
                self.frames = Some(net);
            }
            STATE_NET => {
                self.state = Some(StateNets::from_safetensors(bytes, &entry.file)?);
                #[cfg(feature = "gpu")]
                {
                    self.state_gpu = None;
                }
                self.last_read = None;
            }
            other => {
                return Err(LoadError::Manifest {
                    path: "manifest.json".into(),
                    reason: format!("\"{other}\" is not a role this build knows ({FRAMES_NET}, {STATE_NET})"),
                })
            }
        }
        Ok(())
    }

    /// Whether the GPU device was lost (calls then fail with [`GpuError::Lost`] until
    /// [`Runtime::rebuild`]).
    pub fn gpu_lost(&self) -> bool {
        match &self.backend {
            #[cfg(feature = "gpu")]
            Backend::Gpu(g) => g.ctx.is_lost(),
            Backend::Cpu(_) => false,
        }
    }

    /// Builds the GPU path again on a new device (or the CPU path, with the reason, when no
    /// adapter is granted now), from the weights already loaded: no page reload.
    pub async fn rebuild(&mut self) {
        let (backend, reason) = gpu_or_cpu(&self.weights, self.prefer).await;
        self.backend = backend;
        self.fallback_reason = reason;
        #[cfg(feature = "gpu")]
        {
            self.frames_gpu = self.frames.as_ref().and_then(|net| self.frame_gpu(net));
            self.state_gpu = None;
        }
    }

    /// The frame predictor's weights on the runtime's GPU, when it runs on one.
    #[cfg(feature = "gpu")]
    fn frame_gpu(&self, net: &FrameNet) -> Option<FrameGpu> {
        match &self.backend {
            Backend::Gpu(g) => Some(FrameGpu::new(g.ctx.clone(), net)),
            Backend::Cpu(_) => None,
        }
    }

    /// Fails with [`GpuError::Lost`] when the GPU device is gone, before any buffer is made on
    /// it (wgpu panics on buffers of a lost device).
    fn alive(&self) -> Result<(), RuntimeError> {
        #[cfg(feature = "gpu")]
        if let Backend::Gpu(g) = &self.backend {
            #[cfg(not(target_arch = "wasm32"))]
            let _ = g.ctx.device.poll(wgpu::PollType::Poll);
            if g.ctx.is_lost() {
                g.ctx.check()?;
            }
        }
        Ok(())
    }

    /// Destroys the GPU device, as a driver reset would: for tests and fault drills.
    pub fn lose_device(&self) {
        #[cfg(feature = "gpu")]
        if let Backend::Gpu(g) = &self.backend {
            g.ctx.device.destroy();
        }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.manifest.config
    }

    /// "GPU: <adapter>" or "CPU".
    pub fn describe(&self) -> String {
        match &self.backend {
            #[cfg(feature = "gpu")]
            Backend::Gpu(g) => format!("GPU: {}", g.ctx.describe()),
            Backend::Cpu(_) => "CPU".into(),
        }
    }

    /// Dreams `actions.len()` frames after two context frames (t-1 and t, reached by the move
    /// `last`: stay where nothing led to it), drawing each at `temperature` (0: the most likely
    /// picture) from stream `seed`.
    pub async fn imagine(
        &mut self,
        context: [&[u8]; 2],
        last: u8,
        actions: &[u8],
        temperature: f32,
        seed: u32,
    ) -> Result<Vec<Vec<u8>>, RuntimeError> {
        // A lost GPU device is reported before anything is recorded on it (the page then
        // starts the GPU path again).
        self.alive()?;
        check_context(context)?;
        check_last(last)?;
        check_steps(actions, temperature)?;
        if let Some(net) = &self.frames {
            let kept = self.kept_dream.take();
            let mut d = Dreamer::resume(kept, context, last, self.compose, temperature, seed, self.state.as_ref());
            #[cfg(feature = "gpu")]
            let frames = match &mut self.frames_gpu {
                Some(g) => g.dream_from(&mut d, actions).await?,
                None => net.dream_from(&mut d, actions),
            };
            #[cfg(not(feature = "gpu"))]
            let frames = net.dream_from(&mut d, actions);
            self.kept_dream = Some(d.into_kept());
            return Ok(frames);
        }
        let c = self.manifest.config.clone();
        match &mut self.backend {
            #[cfg(feature = "gpu")]
            Backend::Gpu(g) => imagine(g.as_mut(), &c, context, actions, temperature, seed).await,
            Backend::Cpu(e) => imagine(e, &c, context, actions, temperature, seed).await,
        }
    }

    /// One dream step opened up ([`Inside`]): the same frame step and sample as
    /// [`Runtime::imagine`]'s step `step` with `seed`, always on the CPU path (which can record
    /// the attention weights), whatever the backend.
    pub async fn explain(
        &mut self,
        context: [&[u8]; 2],
        action: u8,
        temperature: f32,
        seed: u32,
        step: u32,
    ) -> Result<Inside, RuntimeError> {
        check_context(context)?;
        check_steps(&[action], temperature)?;
        let c = self.manifest.config.clone();
        let weights = &self.weights;
        let e = self
            .explainer
            .get_or_insert_with(|| Box::new(Cpu::new(weights.clone())));
        let (mask, prev, cur) = frame_context(e.as_mut(), &c, context);
        let ids = e.ids(&[action as u32]);
        e.record_attention();
        let (mean, logvar, _) = graph::frame_step(e.as_mut(), &c, &prev, &cur, &ids, &mask);
        let attention = e.take_trace();
        let next = e.sample(&mean, &logvar, temperature, seed, step);
        let pixels = graph::decode(e.as_mut(), &next);
        Ok(Inside {
            grid: FRAME / c.patch,
            latent: c.patch_latent,
            prev: prev.data.to_vec(),
            cur: cur.data.to_vec(),
            tokens: c.frame_tokens(),
            heads: c.heads,
            attention,
            mean: mean.data.to_vec(),
            sample: next.data.to_vec(),
            frame: unpatchify(&pixels.data[..], c.patch),
        })
    }

    /// One step of the frame predictor's dream opened up ([`DreamInside`]): the step
    /// [`Runtime::imagine`] takes from `context` (reached by the move `last`) with `action`,
    /// `temperature` and `seed`, always on the CPU path, which hands out every stage's map.
    /// Like `imagine`, a step from the last two frames it drew goes on with their tracked state,
    /// so stepping it again and again is one dream.
    pub async fn explain_dream(
        &mut self,
        context: [&[u8]; 2],
        last: u8,
        action: u8,
        temperature: f32,
        seed: u32,
    ) -> Result<DreamInside, RuntimeError> {
        check_context(context)?;
        check_last(last)?;
        check_steps(&[action], temperature)?;
        let Some(net) = &self.frames else {
            return Err(RuntimeError::Input(
                "the model has no frame predictor to open up: its manifest lists no frames weights".into(),
            ));
        };
        let kept = self.kept_dream.take();
        let mut d = Dreamer::resume(kept, context, last, self.compose, temperature, seed, self.state.as_ref());
        let mut stages = Vec::new();
        let logits = net.forward(&d.prev, &d.cur, d.last, action, &mut |name, map| {
            stages.push(StageView::of(name, map))
        });
        let (change, likeliest) = change_and_likeliest(&logits, &d.cur);
        let pair = net.move_rows > crate::frame_net::MOVES;
        d.draw(&logits, action);
        let tracked = d.tracked();
        let frame = d.frames[0].clone();
        self.kept_dream = Some(d.into_kept());
        Ok(DreamInside {
            stages,
            change,
            likeliest,
            frame,
            tracked,
            pair,
            parameters: net.parameters(),
            flops: net.flops(),
        })
    }

    /// The first frame of a scene sentence (word ids, no BOS/EOS): read into the model's
    /// state by the state nets' sentence reader and drawn from it where they have one
    /// ([`crate::prompt::PromptNet`]), else decoded from the transformer's mean latents.
    pub async fn prompt_to_frame(&mut self, words: &[u16]) -> Result<Vec<u8>, RuntimeError> {
        self.alive()?;
        let c = self.manifest.config.clone();
        check_words(&c, words)?;
        if let Some(reader) = self.state.as_ref().and_then(|s| s.prompt.as_ref()) {
            let (side, slots) = reader.read(words);
            return Ok(layout::prompt::first_frame(&layout::prompt::scene_from_reading(side, &slots)));
        }
        match &mut self.backend {
            #[cfg(feature = "gpu")]
            Backend::Gpu(g) => prompt_to_frame(g.as_mut(), &c, words).await,
            Backend::Cpu(e) => prompt_to_frame(e, &c, words).await,
        }
    }

    /// Plans toward a goal sentence from the two latest frames of a scene seen from `view`:
    /// with the state nets when they are loaded (read the slots, take the object and zone the
    /// sentence names, imagine every candidate with each member of the dynamics ensemble and
    /// rank by the mean imagined cost; all of it on the GPU when the runtime runs there), else as
    /// [`Runtime::plan`]. `last` is the move that led to the last frame (stay where nothing
    /// did).
    pub async fn plan_in(
        &mut self,
        view: View,
        context: [&[u8]; 2],
        last: u8,
        goal: &[u16],
        settings: &CemConfig,
        warm: &[u8],
        seed: u32,
    ) -> Result<PlanResult, RuntimeError> {
        if self.state.is_none() {
            return self.plan(context, goal, settings, warm, seed).await;
        }
        self.alive()?;
        check_context(context)?;
        check_last(last)?;
        settings.validate().map_err(RuntimeError::Input)?;
        check_plan_size(settings)?;
        check_words(&self.manifest.config.clone(), goal)?;
        let nets = self.state.as_ref().expect("checked above");
        // The frame before, read with itself before it (no motion), unless it was read last time.
        let kept = self.last_read.take().filter(|(frame, _)| frame == context[0]).map(|(_, r)| r);
        let (object, zone) = nets.goal.read(goal);
        #[cfg(feature = "gpu")]
        if let Backend::Gpu(g) = &mut self.backend {
            let on_gpu = self.state_gpu.get_or_insert_with(|| StateGpu::new(g, nets));
            let before = match kept {
                Some(r) => r,
                None => still(on_gpu.read(nets, context[0], context[0]).await?),
            };
            let now = on_gpu.read(nets, context[0], context[1]).await?;
            let (now, target) = target_of(now, &before, last, object, zone, view);
            self.last_read = Some((context[1].to_vec(), now));
            let plan = on_gpu.plan(g, &nets.ensemble, &target, settings, warm, seed).await?;
            return Ok(plan.result);
        }
        let before = kept.unwrap_or_else(|| still(nets.read(context[0], context[0])));
        let (now, target) = target_of(nets.read(context[0], context[1]), &before, last, object, zone, view);
        self.last_read = Some((context[1].to_vec(), now));
        Ok(crate::state::plan(&nets.ensemble, &target, settings, warm, seed).result)
    }

    /// Plans toward a goal sentence from the two latest frames: CEM in latent space with
    /// `settings`, every candidate of an iteration imagined in one batched pass.
    pub async fn plan(
        &mut self,
        context: [&[u8]; 2],
        goal: &[u16],
        settings: &CemConfig,
        warm: &[u8],
        seed: u32,
    ) -> Result<PlanResult, RuntimeError> {
        self.alive()?;
        check_context(context)?;
        settings.validate().map_err(RuntimeError::Input)?;
        check_plan_size(settings)?;
        let c = self.manifest.config.clone();
        check_words(&c, goal)?;
        match &mut self.backend {
            #[cfg(feature = "gpu")]
            Backend::Gpu(g) => {
                plan_from_frames(g.as_mut(), &c, context, goal, settings, warm, seed).await
            }
            Backend::Cpu(e) => plan_from_frames(e, &c, context, goal, settings, warm, seed).await,
        }
    }
}

/// A frame's reading with no motion (the frame read with itself before it).
fn still(mut r: Reading) -> Reading {
    crate::state::track_motion(&mut r, None);
    r
}

/// The planner's target from the reading of the frame now (its motions still to be taken from
/// `before`) and the goal's object and zone; gives back the reading with its motions.
fn target_of(mut now: Reading, before: &Reading, last: u8, object: usize, zone: usize, view: View) -> (Reading, Target) {
    crate::state::track_motion(&mut now, Some(before));
    let target = Target::of(&now, Some(before), last, object, zone, view);
    (now, target)
}

/// One pass of the frame step, opened up for people: the tokens the transformer reads, where
/// each of them looks, and the next frame it produces.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Inside {
    /// Patches per side of a frame (`P = grid * grid`), and the width of a patch latent (`L`).
    pub grid: usize,
    pub latent: usize,
    /// Patch latents of the two context frames, `[P, L]` each, as the encoder makes them.
    pub prev: Vec<f32>,
    pub cur: Vec<f32>,
    /// Tokens in the sequence the transformer reads: the `P` patches of the previous frame,
    /// the `P` of the current one, the action, the summary (`2P + 2`).
    pub tokens: usize,
    pub heads: usize,
    /// Each layer's attention weights, `[heads, tokens, tokens]` (row: a query token).
    pub attention: Vec<Vec<f32>>,
    /// The next frame's patch latents: the predicted mean, and the sample drawn at the
    /// temperature (`[P, L]` each).
    pub mean: Vec<f32>,
    pub sample: Vec<f32>,
    /// The sample decoded into the next frame, RGB.
    pub frame: Vec<u8>,
}

/// One step of the frame predictor, opened up for people ([`Runtime::explain_dream`]): the
/// maps its stages make on the way down to 8x8 and back up, what it says of each pixel, where
/// the dream's state puts each thing, and the frame drawn.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DreamInside {
    /// The stages in the order the net computes them (`FrameNet::forward`'s `inspect`).
    pub stages: Vec<StageView>,
    /// Per pixel of the next frame (row-major, 64 x 64), the probability that it changes
    /// colour, and its three likeliest palette classes with their probabilities.
    pub change: Vec<f32>,
    pub likeliest: Vec<[(u8, f32); 3]>,
    /// The frame drawn, RGB, as `imagine` shows it.
    pub frame: Vec<u8>,
    /// Where the dream's state puts each tracked thing after the move (empty without the
    /// state nets).
    pub tracked: Vec<Tracked>,
    /// Whether the move tables are looked up by the pair (last move, move), else by the move.
    pub pair: bool,
    /// The net's size: parameters, and FLOPs of one pass.
    pub parameters: usize,
    pub flops: f64,
}

/// Most candidates per planning iteration [`Runtime::plan`] accepts (the page offers 16 to 4096).
pub const MAX_POPULATION: usize = 65536;
/// Longest planning horizon [`Runtime::plan`] accepts, in actions.
pub const MAX_HORIZON: usize = 64;

/// Bounds a plan so that its largest buffer (the step-major actions, `population x horizon`
/// u32s, at most 16 MiB) fits WebGPU's guaranteed 128 MiB binding with room to spare: no
/// planning call ever needs to be split to fit a device.
fn check_plan_size(settings: &CemConfig) -> Result<(), RuntimeError> {
    if settings.population > MAX_POPULATION {
        return Err(RuntimeError::Input(format!(
            "CEM population {} is over the runtime's limit of {MAX_POPULATION} candidates per iteration",
            settings.population
        )));
    }
    if settings.horizon > MAX_HORIZON {
        return Err(RuntimeError::Input(format!(
            "CEM horizon {} is over the runtime's limit of {MAX_HORIZON} actions",
            settings.horizon
        )));
    }
    Ok(())
}

/// Longest answer, in words.
pub const MAX_ANSWER: usize = 6;

/// The model's reply about a clip.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reply {
    /// The greedy words, each with the probability the model gave it.
    pub words: Vec<(u16, f32)>,
    /// The probability of every word of the vocabulary as the reply's first word.
    pub first: Vec<f32>,
}

impl Reply {
    /// The `k` likeliest first words, likeliest first.
    pub fn alternatives(&self, k: usize) -> Vec<(u16, f32)> {
        let mut all: Vec<(u16, f32)> = self
            .first
            .iter()
            .enumerate()
            .map(|(w, &p)| (w as u16, p))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.truncate(k);
        all
    }

    /// The probability of `word` as the first word (0 for an id outside the vocabulary).
    pub fn first_word(&self, word: u16) -> f32 {
        self.first.get(word as usize).copied().unwrap_or(0.0)
    }
}

impl Runtime {
    /// Answers a question (word ids, without BOS or ANS) about a clip: its frames in order and
    /// the action taken at each frame (missing ones count as "stay"). Returns the answer's words,
    /// each with the probability the model gave it (greedy decoding, at most [`MAX_ANSWER`]).
    pub async fn answer(
        &mut self,
        frames: &[&[u8]],
        actions: &[u8],
        question: &[u16],
    ) -> Result<Vec<(u16, f32)>, RuntimeError> {
        Ok(self.ask(frames, actions, question).await?.words)
    }

    /// [`Runtime::answer`], with the model's whole distribution over the answer's first word.
    pub async fn ask(
        &mut self,
        frames: &[&[u8]],
        actions: &[u8],
        question: &[u16],
    ) -> Result<Reply, RuntimeError> {
        self.alive()?;
        let c = self.manifest.config.clone();
        check_clip(frames, actions)?;
        check_words(&c, question)?;
        if question.len() + 2 + MAX_ANSWER > c.max_text {
            return Err(RuntimeError::Input(format!(
                "a question of {} words leaves no room for an answer in {} tokens",
                question.len(),
                c.max_text
            )));
        }
        let mut prefix = vec![BOS];
        prefix.extend_from_slice(question);
        prefix.push(ANS);
        match &mut self.backend {
            #[cfg(feature = "gpu")]
            Backend::Gpu(g) => clip_text(g.as_mut(), &c, frames, actions, prefix, MAX_ANSWER).await,
            Backend::Cpu(e) => clip_text(e, &c, frames, actions, prefix, MAX_ANSWER).await,
        }
    }

    /// Describes a clip in words (greedy), each word with its probability.
    pub async fn caption(
        &mut self,
        frames: &[&[u8]],
        actions: &[u8],
    ) -> Result<Vec<(u16, f32)>, RuntimeError> {
        self.alive()?;
        let c = self.manifest.config.clone();
        check_clip(frames, actions)?;
        let most = c.max_text - 1;
        let reply = match &mut self.backend {
            #[cfg(feature = "gpu")]
            Backend::Gpu(g) => clip_text(g.as_mut(), &c, frames, actions, vec![BOS], most).await,
            Backend::Cpu(e) => clip_text(e, &c, frames, actions, vec![BOS], most).await,
        };
        Ok(reply?.words)
    }
}

/// The moves and the temperature of a dream.
/// The move that led to the last context frame.
fn check_last(last: u8) -> Result<(), RuntimeError> {
    if last as usize >= layout::config::ACTIONS {
        return Err(RuntimeError::Input(format!(
            "the move that led to the last frame, {last}, is not one of the 9 (0 to 8)"
        )));
    }
    Ok(())
}

fn check_steps(actions: &[u8], temperature: f32) -> Result<(), RuntimeError> {
    if let Some(a) = actions
        .iter()
        .find(|&&a| a as usize >= layout::config::ACTIONS)
    {
        return Err(RuntimeError::Input(format!(
            "action {a} is not one of the 9 (0 to 8)"
        )));
    }
    if !(temperature.is_finite() && temperature >= 0.0) {
        return Err(RuntimeError::Input(format!(
            "temperature must be 0 or more, got {temperature}"
        )));
    }
    Ok(())
}

fn check_clip(frames: &[&[u8]], actions: &[u8]) -> Result<(), RuntimeError> {
    if frames.is_empty() {
        return Err(RuntimeError::Input(
            "a clip needs at least one frame".into(),
        ));
    }
    for (i, f) in frames.iter().enumerate() {
        check_frame(f, &format!("frame {i} of the clip"))?;
    }
    if actions.len() > frames.len() {
        return Err(RuntimeError::Input(format!(
            "{} actions for a clip of {} frames (at most one per frame)",
            actions.len(),
            frames.len()
        )));
    }
    if let Some(a) = actions
        .iter()
        .find(|&&a| a as usize >= layout::config::ACTIONS)
    {
        return Err(RuntimeError::Input(format!(
            "action {a} is not one of the 9 (0 to 8)"
        )));
    }
    Ok(())
}

fn check_words(c: &ModelConfig, words: &[u16]) -> Result<(), RuntimeError> {
    if words.is_empty() || words.len() > c.max_text {
        return Err(RuntimeError::Input(format!(
            "a sentence of {} words: the model reads 1 to {}",
            words.len(),
            c.max_text
        )));
    }
    if let Some(w) = words.iter().find(|&&w| w as usize >= c.vocab) {
        return Err(RuntimeError::Input(format!(
            "word id {w} is outside the vocabulary of {}",
            c.vocab
        )));
    }
    Ok(())
}

/// Patch latents `[P, L]` of an RGB frame.
fn encode<E: Exec>(e: &mut E, c: &ModelConfig, frame: &[u8]) -> E::T {
    let mut patches = Vec::with_capacity(c.patches() * c.patch_dim());
    patchify(frame, c.patch, &mut patches);
    let t = e.input(&patches, c.patches(), c.patch_dim());
    graph::encode(e, &t)
}

/// Greedy continuation of `prefix` over a clip's state tokens (as `model::infer`'s
/// `clip_states`, `clip_rows` and `continue_text`): every frame's `z` from frame mode (previous
/// frame, frame, its action), `max_clip` of them spread over the clip, then one clip-mode pass
/// per new word.
async fn clip_text<E: Fetch>(
    e: &mut E,
    c: &ModelConfig,
    frames: &[&[u8]],
    actions: &[u8],
    prefix: Vec<u16>,
    max_new: usize,
) -> Result<Reply, RuntimeError> {
    let n = frames.len();
    let (mut prev, mut cur) = (Vec::new(), Vec::new());
    for t in 0..n {
        patchify(frames[t.saturating_sub(1)], c.patch, &mut prev);
        patchify(frames[t], c.patch, &mut cur);
    }
    let prev = e.input(&prev, n * c.patches(), c.patch_dim());
    let cur = e.input(&cur, n * c.patches(), c.patch_dim());
    let prev = graph::encode(e, &prev);
    let cur = graph::encode(e, &cur);
    let acts: Vec<u32> = (0..n)
        .map(|t| *actions.get(t).unwrap_or(&0) as u32)
        .collect();
    let ids = e.ids(&acts);
    let mask = graph::frame_mask(c);
    let mask = e.input(&mask, c.frame_tokens(), c.frame_tokens());
    let (_, _, z) = graph::frame_step(e, c, &prev, &cur, &ids, &mask); // [n, Z]
    let z = e.fetch(&z).await?;
    let idx = clip_indices(n, c.max_clip);
    let zd = c.state_latent;
    let rows: Vec<f32> = idx
        .iter()
        .flat_map(|&t| z[t * zd..(t + 1) * zd].to_vec())
        .collect();
    let zt = e.input(&rows, idx.len(), zd);
    let at = e.ids(&idx.iter().map(|&t| acts[t]).collect::<Vec<_>>());
    let mut words = prefix;
    let mut out = Vec::new();
    let mut first = Vec::new();
    while out.len() < max_new && words.len() < c.max_text {
        let s = words.len();
        let wt = e.ids(&words.iter().map(|&w| w as u32).collect::<Vec<_>>());
        let logits = graph::clip_words(e, c, &zt, &at, &wt, 1, s);
        let all = e.fetch(&logits).await?;
        let last = &all[(s - 1) * c.vocab..s * c.vocab];
        let top = last.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let total: f32 = last.iter().map(|v| (v - top).exp()).sum();
        if first.is_empty() {
            first = last.iter().map(|v| (v - top).exp() / total).collect();
        }
        let (best, &v) = last
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("vocabulary is not empty");
        if best as u16 == EOS {
            break;
        }
        out.push((best as u16, (v - top).exp() / total));
        words.push(best as u16);
    }
    Ok(Reply { words: out, first })
}

/// The frame-mode mask and the patch latents of the two context frames.
fn frame_context<E: Exec>(e: &mut E, c: &ModelConfig, context: [&[u8]; 2]) -> (E::T, E::T, E::T) {
    let mask = e.input(&graph::frame_mask(c), c.frame_tokens(), c.frame_tokens());
    (mask, encode(e, c, context[0]), encode(e, c, context[1]))
}

async fn imagine<E: Fetch>(
    e: &mut E,
    c: &ModelConfig,
    context: [&[u8]; 2],
    actions: &[u8],
    temperature: f32,
    seed: u32,
) -> Result<Vec<Vec<u8>>, RuntimeError> {
    let (mask, mut prev, mut cur) = frame_context(e, c, context);
    let mut frames = Vec::with_capacity(actions.len());
    for (step, &a) in actions.iter().enumerate() {
        let ids = e.ids(&[a as u32]);
        let (mean, logvar, _) = graph::frame_step(e, c, &prev, &cur, &ids, &mask);
        let next = e.sample(&mean, &logvar, temperature, seed, step as u32);
        let pixels = graph::decode(e, &next);
        frames.push(unpatchify(&e.fetch(&pixels).await?, c.patch));
        prev = std::mem::replace(&mut cur, next);
    }
    Ok(frames)
}

async fn prompt_to_frame<E: Fetch>(
    e: &mut E,
    c: &ModelConfig,
    words: &[u16],
) -> Result<Vec<u8>, RuntimeError> {
    let ids = e.ids(&words.iter().map(|&w| w as u32).collect::<Vec<_>>());
    let (mean, _) = graph::prompt_frame(e, c, &ids, &[words.len()], words.len());
    let pixels = graph::decode(e, &mean);
    Ok(unpatchify(&e.fetch(&pixels).await?, c.patch))
}

async fn plan_from_frames<E: Fetch>(
    e: &mut E,
    c: &ModelConfig,
    context: [&[u8]; 2],
    goal: &[u16],
    settings: &CemConfig,
    warm: &[u8],
    seed: u32,
) -> Result<PlanResult, RuntimeError> {
    let (mask, prev, cur) = frame_context(e, c, context);
    let stay = e.ids(&[0]);
    let (_, _, z) = graph::frame_step(e, c, &prev, &cur, &stay, &mask); // z ignores the action
    let words = e.ids(&goal.iter().map(|&w| w as u32).collect::<Vec<_>>());
    let g = graph::goal(e, c, &words, &[goal.len()], goal.len());
    let rec = plan::record(e, c, &z, &g, settings, warm, seed);
    let mut read = Vec::with_capacity(rec.elites.len());
    for (s, k) in &rec.elites {
        let seqs = e.fetch_ids(s).await?;
        let costs = e.fetch(k).await?;
        read.push((seqs, costs));
    }
    Ok(plan::finish(settings, read))
}
