//! The GPU executor: each operation of [`Exec`] records one WGSL dispatch into a command
//! encoder; nothing is read back until [`Gpu::read`], so a planner iteration or a dream step is
//! one submission. Runs on WebGPU in the browser and on Vulkan, Metal or DX12 natively.
//!
//! Limits: the device is requested with the adapter's own storage-buffer limits (WebGPU
//! guarantees 128 MiB per binding, 256 MiB per buffer); an operation whose output would exceed
//! them is refused with [`GpuError::TooLarge`] and callers chunk their batches with
//! [`Gpu::max_rows`].

use std::collections::HashMap;
#[cfg(target_arch = "wasm32")]
use std::future::Future;
use std::sync::{Arc, Mutex};

use layout::weights::Weights;
use wgpu::util::DeviceExt;

use crate::exec::{Act, Exec, Shape};
use crate::kernels::rollout::RolloutWeights;
use crate::kernels::rollout_coop::CoopWeights;
use crate::kernels::{self, Kernel};

pub use crate::error::GpuError;

/// An adapter, its device and queue, and what went wrong on them.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    lost: Arc<Mutex<Option<String>>>,
    error: Arc<Mutex<Option<String>>>,
}

impl GpuContext {
    /// Requests a high-performance adapter and a device with its storage limits. Fails with
    /// [`GpuError::NoAdapter`] when none is granted (the caller then uses the CPU path).
    pub async fn new() -> Result<GpuContext, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                ..Default::default()
            })
            .await
            .map_err(|_| GpuError::NoAdapter)?;
        let granted = adapter.limits();
        let limits = wgpu::Limits {
            max_storage_buffer_binding_size: granted.max_storage_buffer_binding_size,
            max_buffer_size: granted.max_buffer_size,
            max_uniform_buffer_binding_size: granted.max_uniform_buffer_binding_size,
            max_storage_buffers_per_shader_stage: granted
                .max_storage_buffers_per_shader_stage
                .min(8),
            ..wgpu::Limits::downlevel_defaults()
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("world-model runtime"),
                required_features: wgpu::Features::empty(),
                required_limits: limits.clone(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: Default::default(),
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        let lost = Arc::new(Mutex::new(None));
        let error = Arc::new(Mutex::new(None));
        {
            let lost = lost.clone();
            device.set_device_lost_callback(move |reason, message| {
                *lost.lock().unwrap() = Some(format!("{reason:?}: {message}"));
            });
            let error = error.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                error.lock().unwrap().get_or_insert_with(|| e.to_string());
            }));
        }
        Ok(GpuContext {
            device,
            queue,
            info: adapter.get_info(),
            limits,
            lost,
            error,
        })
    }

    /// The first error since the last check: a lost device, or a validation error.
    pub fn check(&self) -> Result<(), GpuError> {
        if let Some(reason) = self.lost.lock().unwrap().clone() {
            return Err(GpuError::Lost(reason));
        }
        if let Some(e) = self.error.lock().unwrap().take() {
            return Err(GpuError::Validation(e));
        }
        Ok(())
    }

    /// Whether the device has been lost (the runtime must be rebuilt).
    pub fn is_lost(&self) -> bool {
        self.lost.lock().unwrap().is_some()
    }

    /// Describes the adapter, e.g. "llvmpipe (Vulkan, Cpu)".
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.info.name, self.info.backend, self.info.device_type
        )
    }
}

/// A row-major f32 matrix in a storage buffer.
#[derive(Clone, Debug)]
pub struct GpuMat {
    pub buffer: Arc<wgpu::Buffer>,
    pub rows: usize,
    pub cols: usize,
}

impl Shape for GpuMat {
    fn rows(&self) -> usize {
        self.rows
    }
    fn cols(&self) -> usize {
        self.cols
    }
}

/// A u32 index vector in a storage buffer.
#[derive(Clone, Debug)]
pub struct GpuIds {
    pub buffer: Arc<wgpu::Buffer>,
    pub len: usize,
}

/// The GPU executor over one context, with the model's parameters uploaded once.
pub struct Gpu {
    pub ctx: Arc<GpuContext>,
    params: HashMap<String, (Vec<usize>, Arc<wgpu::Buffer>)>,
    /// Compiled pipelines by kernel and the constants prepended to its source.
    pipelines: HashMap<(Kernel, String), wgpu::ComputePipeline>,
    encoder: Option<wgpu::CommandEncoder>,
    /// The planning weights as the fused rollout kernel reads them; `None` when they exceed
    /// this device's uniform bindings (rollouts then run layer by layer).
    rollout: Option<Arc<RolloutWeights>>,
    /// The planning weights as the cooperative rollout kernel reads them; used on GPUs (not
    /// on CPU-emulated adapters, where the one-invocation-per-candidate kernel is faster).
    coop: Option<Arc<CoopWeights>>,
    /// Whether planning rollouts run as `rollout_coop.wgsl`.
    use_coop: bool,
    /// Dispatches recorded since the last submission.
    pub recorded: usize,
}

const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl Gpu {
    /// Uploads `weights` to the context's device.
    pub fn new(ctx: Arc<GpuContext>, weights: &Weights) -> Gpu {
        let rollout = RolloutWeights::new(&ctx.device, &ctx.limits, weights).map(Arc::new);
        let coop = CoopWeights::new(&ctx.device, &ctx.limits, weights).map(Arc::new);
        let use_coop = coop.is_some() && ctx.info.device_type != wgpu::DeviceType::Cpu;
        let params = weights
            .tensors
            .iter()
            .map(|(name, (shape, values))| {
                let padded = pad_columns(shape, values);
                let buffer = ctx
                    .device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some(name),
                        contents: bytemuck::cast_slice(&padded),
                        // Uniform too: the linear kernel binds weights that fit as uniforms.
                        usage: STORAGE | wgpu::BufferUsages::UNIFORM,
                    });
                (name.clone(), (shape.clone(), Arc::new(buffer)))
            })
            .collect();
        Gpu {
            ctx,
            params,
            pipelines: HashMap::new(),
            encoder: None,
            rollout,
            coop,
            use_coop,
            recorded: 0,
        }
    }

    /// Whether planning rollouts run as the cooperative `rollout_coop.wgsl` (one workgroup
    /// per candidate; chosen on GPUs).
    pub fn cooperative_rollouts(&self) -> bool {
        self.use_coop
    }

    /// Chooses the rollout kernel: the cooperative one (when the weights allow it) or not.
    /// For tests and benchmarks; [`Gpu::new`] picks by adapter type.
    pub fn set_cooperative_rollouts(&mut self, on: bool) {
        self.use_coop = on && self.coop.is_some();
    }

    /// Whether planning rollouts run as the fused `rollout.wgsl` (the planning weights fit this
    /// device's uniform bindings) rather than layer by layer.
    pub fn fused_rollouts(&self) -> bool {
        self.rollout.is_some()
    }

    /// The most rows of `cols` floats one buffer may hold on this device.
    pub fn max_rows(&self, cols: usize) -> usize {
        let limit = self
            .ctx
            .limits
            .max_storage_buffer_binding_size
            .min(self.ctx.limits.max_buffer_size);
        (limit / (4 * cols.max(1) as u64)) as usize
    }

    pub(crate) fn param(&self, name: &str) -> (&[usize], &Arc<wgpu::Buffer>) {
        match self.params.get(name) {
            Some((shape, buffer)) => (shape, buffer),
            None => panic!("no parameter {name}: the graph asked for a tensor the layout lacks"),
        }
    }

    /// A new storage buffer of `rows x cols` floats, or the limit it would break.
    pub fn output(&self, what: &str, rows: usize, cols: usize) -> Result<GpuMat, GpuError> {
        let bytes = (rows * cols).max(1) as u64 * 4;
        let limit = self
            .ctx
            .limits
            .max_storage_buffer_binding_size
            .min(self.ctx.limits.max_buffer_size);
        if bytes > limit {
            return Err(GpuError::TooLarge {
                what: what.to_string(),
                bytes,
                limit,
            });
        }
        let buffer = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(what),
            size: bytes,
            usage: STORAGE,
            mapped_at_creation: false,
        });
        Ok(GpuMat {
            buffer: Arc::new(buffer),
            rows,
            cols,
        })
    }

    /// A new storage buffer of `len` u32 indices.
    pub fn output_ids(&self, what: &str, len: usize) -> Result<GpuIds, GpuError> {
        let m = self.output(what, len, 1)?;
        Ok(GpuIds {
            buffer: m.buffer,
            len,
        })
    }

    /// Reads an index vector back.
    pub async fn read_ids(&mut self, ids: &GpuIds) -> Result<Vec<u32>, GpuError> {
        let bytes = self.read_bytes(&ids.buffer, (ids.len * 4) as u64).await?;
        Ok(bytemuck::cast_slice(&bytes).to_vec())
    }

    /// Records a copy of `len` indices from `src[offset..]` into a new index vector.
    pub fn copy_ids(
        &mut self,
        src: &GpuIds,
        offset: usize,
        len: usize,
    ) -> Result<GpuIds, GpuError> {
        let out = self.output_ids("ids", len)?;
        let device = &self.ctx.device;
        let encoder = self.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("runtime"),
            })
        });
        encoder.copy_buffer_to_buffer(
            &src.buffer,
            (offset * 4) as u64,
            &out.buffer,
            0,
            (len * 4) as u64,
        );
        Ok(out)
    }

    /// Records one dispatch of `kernel`: see [`Gpu::dispatch_with`].
    pub fn dispatch(
        &mut self,
        kernel: Kernel,
        params: &[u32],
        buffers: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) {
        self.dispatch_with(kernel, "", params, buffers, groups)
    }

    /// Records one dispatch of `kernel`: `params` (u32 words, f32 by bit pattern) go in a
    /// uniform at binding 0, `buffers` at bindings 1.. in order. `header` (WGSL constants) is
    /// prepended to the kernel's source when its pipeline is first built.
    pub fn dispatch_with(
        &mut self,
        kernel: Kernel,
        header: &str,
        params: &[u32],
        buffers: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) {
        let device = &self.ctx.device;
        let pipeline = self
            .pipelines
            .entry((kernel, header.to_string()))
            .or_insert_with(|| {
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(kernel.name()),
                    source: wgpu::ShaderSource::Wgsl(format!("{header}{}", kernel.source()).into()),
                });
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(kernel.name()),
                    layout: None,
                    module: &module,
                    entry_point: Some("main"),
                    compilation_options: Default::default(),
                    cache: None,
                })
            });
        let mut words = params.to_vec();
        words.resize(words.len().div_ceil(4).max(1) * 4, 0);
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::cast_slice(&words),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        for (i, b) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: b.as_entire_binding(),
            });
        }
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.name()),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let encoder = self.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("runtime"),
            })
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(kernel.name()),
                timestamp_writes: None,
            });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        }
        self.recorded += 1;
    }

    /// Submits everything recorded so far.
    pub fn submit(&mut self) {
        if let Some(encoder) = self.encoder.take() {
            self.ctx.queue.submit([encoder.finish()]);
        }
        self.recorded = 0;
    }

    /// Submits the recorded work and reads `bytes` of `buffer` back (async on the web, polled
    /// natively).
    pub async fn read_bytes(
        &mut self,
        buffer: &wgpu::Buffer,
        bytes: u64,
    ) -> Result<Vec<u8>, GpuError> {
        self.ctx.check()?;
        let staging = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size: bytes.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let device = &self.ctx.device;
        let encoder = self.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("runtime"),
            })
        });
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes);
        self.submit();
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        #[cfg(not(target_arch = "wasm32"))]
        self.ctx
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        #[cfg(not(target_arch = "wasm32"))]
        let mapped = rx.await;
        #[cfg(target_arch = "wasm32")]
        let mapped = match within(rx, READBACK_TIMEOUT_MS).await {
            Some(mapped) => mapped,
            None => {
                let reason = format!(
                    "the GPU did not finish a readback within {} s",
                    READBACK_TIMEOUT_MS / 1000
                );
                *self.ctx.lost.lock().unwrap() = Some(reason.clone());
                return Err(GpuError::Lost(reason));
            }
        };
        let mapped =
            mapped.map_err(|_| GpuError::Readback("the map callback was dropped".into()))?;
        self.ctx.check()?;
        mapped.map_err(|e| GpuError::Readback(e.to_string()))?;
        let out = staging
            .get_mapped_range(..)
            .map_err(|e| GpuError::Readback(e.to_string()))?
            .to_vec();
        staging.unmap();
        Ok(out)
    }

    /// Reads a matrix back as row-major floats.
    pub async fn read(&mut self, m: &GpuMat) -> Result<Vec<f32>, GpuError> {
        let bytes = self
            .read_bytes(&m.buffer, (m.rows * m.cols * 4) as u64)
            .await?;
        Ok(bytemuck::cast_slice(&bytes).to_vec())
    }

    fn ok<T>(r: Result<T, GpuError>) -> T {
        // Exec's operations are infallible by signature; a buffer over the device's limit is
        // a caller bug (batches are chunked with max_rows before the graph runs).
        r.unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Exec for Gpu {
    type T = GpuMat;
    type I = GpuIds;

    fn input(&mut self, values: &[f32], rows: usize, cols: usize) -> GpuMat {
        assert_eq!(
            values.len(),
            rows * cols,
            "{} values are not [{rows}, {cols}]",
            values.len()
        );
        let contents: &[u8] = if values.is_empty() {
            &[0; 4]
        } else {
            bytemuck::cast_slice(values)
        };
        let buffer = self
            .ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("input"),
                contents,
                usage: STORAGE,
            });
        GpuMat {
            buffer: Arc::new(buffer),
            rows,
            cols,
        }
    }

    fn ids(&mut self, ids: &[u32]) -> GpuIds {
        let contents: &[u8] = if ids.is_empty() {
            &[0; 4]
        } else {
            bytemuck::cast_slice(ids)
        };
        let buffer = self
            .ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("ids"),
                contents,
                usage: STORAGE,
            });
        GpuIds {
            buffer: Arc::new(buffer),
            len: ids.len(),
        }
    }

    fn linear(&mut self, x: &GpuMat, layer: &str, act: Act, add: Option<&GpuMat>) -> GpuMat {
        Self::ok(kernels::linear::record(self, x, layer, act, add))
    }

    fn layer_norm(&mut self, x: &GpuMat, norm: &str) -> GpuMat {
        Self::ok(kernels::layer_norm::record(self, x, norm))
    }

    fn attention(
        &mut self,
        q: &GpuMat,
        k: &GpuMat,
        v: &GpuMat,
        batch: usize,
        heads: usize,
        mask: &GpuMat,
    ) -> GpuMat {
        Self::ok(kernels::attention::record(
            self, q, k, v, batch, heads, mask,
        ))
    }

    fn gather(&mut self, table: &str, ids: &GpuIds) -> GpuMat {
        Self::ok(kernels::gather::record(self, table, ids))
    }

    fn add_rows(&mut self, x: &GpuMat, y: &GpuMat) -> GpuMat {
        Self::ok(kernels::add_rows::record(self, x, y))
    }

    fn assemble(&mut self, batch: usize, parts: &[(&GpuMat, bool)]) -> GpuMat {
        Self::ok(kernels::assemble::record(self, batch, parts))
    }

    fn select(&mut self, x: &GpuMat, batch: usize, start: usize, len: usize) -> GpuMat {
        Self::ok(kernels::select::record(self, x, batch, start, len))
    }

    fn gaussian(&mut self, out: &GpuMat, base: Option<&GpuMat>) -> (GpuMat, GpuMat) {
        Self::ok(kernels::gaussian::record(self, out, base))
    }

    fn goal_features(&mut self, z: &GpuMat, g: &GpuMat) -> GpuMat {
        Self::ok(kernels::goal_features::record(self, z, g))
    }

    fn sample(
        &mut self,
        mean: &GpuMat,
        logvar: &GpuMat,
        temperature: f32,
        seed: u32,
        stream: u32,
    ) -> GpuMat {
        if temperature <= 0.0 {
            return mean.clone();
        }
        Self::ok(kernels::cem::sample(
            self,
            mean,
            logvar,
            temperature,
            seed,
            stream,
        ))
    }

    fn cem_sample(&mut self, probs: &GpuMat, n: usize, seed: u32, stream: u32) -> GpuIds {
        Self::ok(kernels::cem::cem_sample(self, probs, n, seed, stream))
    }

    fn cem_step(&mut self, actions: &GpuIds, h: usize, n: usize) -> GpuIds {
        Self::ok(self.copy_ids(actions, h * n, n))
    }

    fn cem_elites(
        &mut self,
        cost: &GpuMat,
        actions: &GpuIds,
        horizon: usize,
        k: usize,
    ) -> (GpuIds, GpuMat) {
        Self::ok(kernels::cem::cem_elites(self, cost, actions, horizon, k))
    }

    fn cem_refit(
        &mut self,
        probs: &GpuMat,
        elites: &GpuIds,
        k: usize,
        smoothing: f32,
        min_prob: f32,
    ) -> GpuMat {
        Self::ok(kernels::cem::cem_refit(
            self, probs, elites, k, smoothing, min_prob,
        ))
    }

    fn rollout_cost(
        &mut self,
        z0: &GpuMat,
        goal: &GpuMat,
        actions: &GpuIds,
        n: usize,
        horizon: usize,
    ) -> GpuMat {
        if let Some(w) = self.coop.clone().filter(|_| self.use_coop) {
            return Self::ok(kernels::rollout_coop::record(
                self, &w, z0, goal, actions, n, horizon,
            ));
        }
        match self.rollout.clone() {
            Some(w) => Self::ok(kernels::rollout::record(
                self, &w, z0, goal, actions, n, horizon,
            )),
            None => crate::exec::layered_rollout_cost(self, z0, goal, actions, n, horizon),
        }
    }
}

/// A matrix's columns rounded up to a multiple of 4: weights live on the device with this row
/// stride so the linear kernel can read them as `vec4`s.
pub fn padded_cols(cols: usize) -> usize {
    cols.div_ceil(4) * 4
}

/// 2-D parameters with their rows padded to [`padded_cols`] (zeros), 1-D ones to a multiple
/// of 4 values; others as they are.
pub(crate) fn pad_columns(shape: &[usize], values: &[f32]) -> Vec<f32> {
    if shape.len() == 1 {
        let mut out = values.to_vec();
        out.resize(padded_cols(values.len()).max(4), 0.0);
        return out;
    }
    if shape.len() != 2 || shape[1] % 4 == 0 {
        return values.to_vec();
    }
    let (rows, cols) = (shape[0], shape[1]);
    let stride = padded_cols(cols);
    let mut out = vec![0.0f32; rows * stride];
    for r in 0..rows {
        out[r * stride..r * stride + cols].copy_from_slice(&values[r * cols..(r + 1) * cols]);
    }
    out
}

/// Workgroups for `threads` invocations of a 1-D kernel with 256 per group, spread over x and y
/// so no dimension passes WebGPU's 65535 (kernels rebuild the index as `y * 65535*256 + ...`).
pub fn groups_1d(threads: usize) -> [u32; 3] {
    let groups = threads.div_ceil(256).max(1);
    let x = groups.min(65535);
    [x as u32, groups.div_ceil(65535) as u32, 1]
}

/// How long the browser may take to hand back one readback before the device is taken for
/// lost (the largest the page asks for, 4096 futures x 24 steps on a software adapter, takes
/// about 16 s). A GPU process that crashed and restarted can leave a device whose readbacks
/// never settle; without this the model would wait forever instead of starting again.
#[cfg(target_arch = "wasm32")]
pub const READBACK_TIMEOUT_MS: u32 = 90_000;

/// `f`'s output, or `None` once `ms` milliseconds have passed (the global `setTimeout`, so
/// in a window or a worker).
#[cfg(target_arch = "wasm32")]
async fn within<F: Future + Unpin>(mut f: F, ms: u32) -> Option<F::Output> {
    use std::pin::Pin;
    use std::task::Poll;

    let timer = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into())
            .ok()
            .map(js_sys::Function::from);
        if let Some(set_timeout) = set_timeout {
            let _ = set_timeout.call2(&global, &resolve, &ms.into());
        }
    });
    let mut timer = wasm_bindgen_futures::JsFuture::from(timer);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = Pin::new(&mut f).poll(cx) {
            return Poll::Ready(Some(out));
        }
        if Pin::new(&mut timer).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}
