//! Loading a scenario component: engine configuration, compile cache,
//! linking, and the pool's limits.

use std::path::{Path, PathBuf};

use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy,
};

use crate::bindings::ScriptScenario;
use crate::bindings::exports::molotov::scenario::{driver, scenarios, script};
use crate::state::WorkerState;

/// Why a file could not be used as a scenario component. Each message is one
/// line that names the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {error}")]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is not a WebAssembly file")]
    NotWasm { path: PathBuf },
    #[error(
        "{path} is a core WebAssembly module, not a component: build it for wasm32-wasip2, or adapt it with `wasm-tools component new`"
    )]
    CoreModule { path: PathBuf },
    #[error("{path} is not a valid component: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "{path} is not a molotov scenario component (world molotov:scenario/scenario@0.4.7): {reason}"
    )]
    WrongWorld { path: PathBuf, reason: String },
}

/// The sandbox and pool sizes the engine is built for.
#[derive(Debug, Clone)]
pub struct EngineLimits {
    /// Instances that may exist at once: one per worker, plus spares.
    pub instances: u32,
    pub max_memory_bytes: usize,
}

/// A compiled component, linked and ready to instantiate for each worker.
#[derive(Clone)]
pub struct Loaded {
    pub(crate) engine: Engine,
    pub(crate) pre: InstancePre<WorkerState>,
    pub(crate) scenarios: scenarios::GuestIndices,
    /// Present when the component can run many workers per instance.
    pub(crate) driver: Option<driver::GuestIndices>,
    /// Present when the component is a script (a k6 script): its options and
    /// its `handleSummary`.
    pub(crate) script: Option<script::GuestIndices>,
}

impl Loaded {
    /// Whether the component is a script that says which run it wants
    /// ([`Instance::run_options`]) and what to write of its results
    /// ([`Instance::handle_summary`]).
    pub fn is_script(&self) -> bool {
        self.script.is_some()
    }

    /// Whether one instance of the component can run many workers.
    pub fn can_share_instances(&self) -> bool {
        self.driver.is_some()
    }

    /// Advances the engine's epoch every [`EPOCH_TICK`], which guest
    /// deadlines and yielding go by, until the task is aborted.
    pub fn tick_epochs(&self) -> tokio::task::JoinHandle<()> {
        let engine = self.engine.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(EPOCH_TICK).await;
                engine.increment_epoch();
            }
        })
    }
}

/// How often the engine's epoch advances: the granularity of guest deadlines
/// and of yielding a busy guest to other workers.
pub const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// Set (to anything) to have the engine write a perf map of guest code.
const PERF_MAP_VARIABLE: &str = "MOLOTOV_PERF_MAP";

/// One engine for the run: pooled instances with copy-on-write memory images,
/// epoch interruption for deadlines; functions compiled before are taken
/// from `cache_dir`.
pub fn engine(limits: &EngineLimits, cache_dir: Option<&Path>) -> anyhow::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    let slots = limits.instances;
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(16))
        .total_memories(slots.saturating_mul(2))
        .total_tables(slots.saturating_mul(4))
        .total_stacks(slots)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        .max_core_instances_per_component(64)
        .max_memory_size(limits.max_memory_bytes);
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .memory_init_cow(true)
        .wasm_component_model(true)
        .wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // For profiling a guest with `perf record`: names its compiled functions
    // in /tmp/perf-PID.map (see the README's "Profiling a scenario").
    if std::env::var_os(PERF_MAP_VARIABLE).is_some() {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    if let Some(dir) = cache_dir {
        let functions = crate::function_cache::FunctionCache::in_dir(dir);
        config
            .enable_incremental_compilation(std::sync::Arc::new(functions))
            .map_err(|e| anyhow::anyhow!("cannot cache compiled functions: {e}"))?;
    }
    Engine::new(&config)
        .map_err(|e| anyhow::anyhow!("cannot configure the WebAssembly engine: {e}"))
}

/// Reads, checks, compiles (or takes from the cache) and links a component.
pub fn load(engine: &Engine, path: &Path, cache_dir: Option<&Path>) -> Result<Loaded, LoadError> {
    let bytes = std::fs::read(path).map_err(|error| LoadError::Unreadable {
        path: path.into(),
        error,
    })?;
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => {
            return Err(LoadError::CoreModule { path: path.into() });
        }
        Some([0, b'a', b's', b'm', ..]) => {}
        _ => return Err(LoadError::NotWasm { path: path.into() }),
    }
    let component =
        crate::cache::compile(engine, &bytes, cache_dir).map_err(|e| LoadError::Invalid {
            path: path.into(),
            reason: one_line(&e),
        })?;
    let mut linker = Linker::<WorkerState>::new(engine);
    let wrong_world = |e: wasmtime::Error| LoadError::WrongWorld {
        path: path.into(),
        reason: one_line(&e),
    };
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(wrong_world)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(wrong_world)?;
    ScriptScenario::add_to_linker::<WorkerState, HasSelf<WorkerState>>(&mut linker, |state| state)
        .map_err(wrong_world)?;
    let pre = linker.instantiate_pre(&component).map_err(wrong_world)?;
    let scenarios = scenarios::GuestIndices::new(&pre).map_err(wrong_world)?;
    // Only the world `shared-scenario` exports it: its absence is no error.
    let driver = driver::GuestIndices::new(&pre).ok();
    // Only the world `script-scenario` exports it.
    let script = script::GuestIndices::new(&pre).ok();
    Ok(Loaded {
        engine: engine.clone(),
        pre,
        scenarios,
        driver,
        script,
    })
}

/// A wasmtime error and its causes on one line.
fn one_line(error: &wasmtime::Error) -> String {
    molotov_http::one_line(error.as_ref())
}
