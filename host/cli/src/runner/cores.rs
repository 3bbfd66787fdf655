//! The threads the workers run on: one single-threaded tokio runtime per core,
//! as wrk runs one event loop per thread.
//!
//! A worker stays on its thread for the whole run, so its state (store,
//! fiber stack, session) stays in one core's caches. On a shared
//! multi-threaded runtime, work stealing moves workers between cores, and
//! its scheduler costs more per wake-up even on one core.
//!
//! Like wrk's loop, each runtime takes every ready event, then runs all
//! that they woke before it looks for events again: tokio's default looks
//! after every 61 task polls, which splits a round of many workers (each
//! request takes about three polls) over several `epoll_wait` calls.

use std::thread::JoinHandle;

use anyhow::Context;
use molotov_runtime::Threads;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// Task polls per request, with room to spare: the exchange task's two (it
/// sends, then reads the response) and the worker's one (its guest runs).
/// At 100 workers, looking for events after a whole round rather than after
/// 61 polls gave 1.06 times the requests per client CPU-second.
const POLLS_PER_REQUEST: usize = 4;
/// tokio's own `event_interval`, kept for few workers.
const TOKIO_EVENT_INTERVAL: usize = 61;

pub struct WorkerThreads {
    handles: Vec<Handle>,
    /// Dropped to let each thread's runtime end.
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl WorkerThreads {
    /// One thread per core this process may run on, for `workers` workers.
    pub fn start(workers: u32) -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers_per_thread = (workers as usize).div_ceil(cores);
        let polls_per_round = (POLLS_PER_REQUEST * workers_per_thread).max(TOKIO_EVENT_INTERVAL);
        let mut threads = Self {
            handles: Vec::with_capacity(cores),
            stops: Vec::with_capacity(cores),
            threads: Vec::with_capacity(cores),
        };
        for core in 0..cores {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .event_interval(u32::try_from(polls_per_round).unwrap_or(u32::MAX))
                .enable_all()
                .build()
                .context("cannot start a worker thread's async runtime")?;
            let (stop, stopped) = oneshot::channel::<()>();
            threads.handles.push(runtime.handle().clone());
            threads.stops.push(stop);
            let thread = std::thread::Builder::new()
                .name(format!("molotov-workers-{core}"))
                .spawn(move || {
                    // Whatever is still spawned here when the run ends (a
                    // request a cancelled worker left behind) is dropped.
                    let _ = runtime.block_on(stopped);
                })
                .context("cannot start a worker thread")?;
            threads.threads.push(thread);
        }
        Ok(threads)
    }
}

impl Threads for WorkerThreads {
    /// How many threads (and runtimes) there are.
    fn count(&self) -> u32 {
        self.handles.len() as u32
    }

    /// The runtime that worker `worker_id` runs on: workers are dealt out in turn.
    fn for_worker(&self, worker_id: u32) -> &Handle {
        &self.handles[worker_id as usize % self.handles.len()]
    }
}

impl Drop for WorkerThreads {
    fn drop(&mut self) {
        self.stops.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
