//! `-p N`: N child processes of this binary with `-w` workers each, and one
//! report merged from their raw results (counts summed, histograms merged).

use std::ffi::OsString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::task::JoinSet;

use crate::cli::RunFlags;
use crate::console::Console;
use crate::live_view::Plan;
use crate::merge::merged_reason;
use crate::raw::RawResults;
use crate::runner::{self, Outcome};
use molotov_metrics::{Progress, Report, RunFacts, StopReason, Tally, Timeline};

/// The line a child prints once it handles Ctrl+C: before that, SIGINT
/// would kill it before it could write its results.
pub const READY: &str = "ready";

/// Where a child is in the Ctrl+C handshake, and how to signal it.
struct Interruptible {
    state: AtomicU8,
    child: Signalable,
}

const STARTING: u8 = 0;
const LISTENING: u8 = 1;
const PENDING: u8 = 2;

impl Interruptible {
    fn new(child: Signalable) -> Self {
        Self {
            state: AtomicU8::new(STARTING),
            child,
        }
    }

    /// Interrupts the child now if it is ready, else once it is (an
    /// interrupt already pending is not sent twice: before it is ready, the
    /// signal would kill it).
    fn interrupt(&self) {
        let state =
            self.state
                .compare_exchange(STARTING, PENDING, Ordering::AcqRel, Ordering::Acquire);
        if state == Err(LISTENING) {
            self.child.interrupt();
        }
    }

    /// The child is ready: delivers an interrupt that waited for it.
    fn ready(&self) {
        if self.state.swap(LISTENING, Ordering::AcqRel) == PENDING {
            self.child.interrupt();
        }
    }
}

/// A child to send SIGINT to: by a pidfd, which names that process and no
/// other even after it exits and its pid is reused; by pid where the kernel
/// has no pidfds (before Linux 5.3).
enum Signalable {
    Pidfd(OwnedFd),
    Pid(libc::pid_t),
}

impl Signalable {
    /// Opened right after the spawn, while the child cannot have been reaped.
    fn open(pid: u32) -> Self {
        // SAFETY: pidfd_open takes a pid and flags, and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        match i32::try_from(fd) {
            // SAFETY: a non-negative return is a new file descriptor we own.
            Ok(fd) if fd >= 0 => Self::Pidfd(unsafe { OwnedFd::from_raw_fd(fd) }),
            _ => Self::Pid(pid as libc::pid_t),
        }
    }

    fn interrupt(&self) {
        // SAFETY: both calls take a descriptor or pid and a signal; the worst
        // outcome is an error return (the child has exited).
        unsafe {
            match self {
                Self::Pidfd(fd) => {
                    let no_info = std::ptr::null::<libc::siginfo_t>();
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        fd.as_raw_fd(),
                        libc::SIGINT,
                        no_info,
                        0,
                    );
                }
                Self::Pid(pid) => {
                    libc::kill(*pid, libc::SIGINT);
                }
            }
        }
    }
}

/// Runs `flags.processes` children with the command line `argv` (the
/// parent's own) and merges what they measured.
pub async fn run(flags: RunFlags, argv: &[OsString]) -> anyhow::Result<Outcome> {
    if flags.dashboard.is_some() {
        anyhow::bail!("--dashboard shows one process's run: it cannot go with -p");
    }
    flags.check_load_model()?;
    let console = Console::new(flags.quiet, flags.verbose, flags.console);
    // Compiled once here, every child then loads the component from the cache.
    runner::load(&flags).await?;
    let target = runner::target(&flags, &console).await?;
    // A directory of our own, made with a name no other user can predict,
    // and removed when dropped.
    let scratch = tempfile::Builder::new()
        .prefix("molotov-processes-")
        .tempdir()
        .context("cannot create a directory for the processes' results")?;
    let exe = std::env::current_exe().context("cannot find the molotov binary")?;
    let started = Instant::now();
    let mut children = Vec::new();
    let mut outs = Vec::new();
    let progress = Arc::new(Mutex::new(vec![
        Progress::default();
        flags.processes as usize
    ]));
    let mut handshakes = Vec::new();
    for process in 0..flags.processes {
        let out = scratch.path().join(format!("{process}.json"));
        let mut child = Command::new(&exe)
            .args(&argv[1..])
            .args(["--processes", "1", "--target", target.as_str()])
            .args(flags.child_overrides())
            .arg("--env")
            .arg(format!("MOLOTOV_PROCESS={process}"))
            .args(["--run-id", &flags.run_id])
            .arg("--tally-out")
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // A group of its own: Ctrl+C reaches the children once, through us.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .context("cannot start a child process")?;
        let (Some(stdout), Some(pid)) = (child.stdout.take(), child.id()) else {
            bail!("child process {process} ended as it started");
        };
        let handshake = Arc::new(Interruptible::new(Signalable::open(pid)));
        tokio::spawn(follow_progress(
            stdout,
            Arc::clone(&progress),
            process as usize,
            Arc::clone(&handshake),
        ));
        handshakes.push(handshake);
        outs.push(out.clone());
        children.push((child, out));
    }
    console.note(&format!(
        "running {} processes of {} workers each",
        flags.processes,
        flags.workers()
    ));
    let plan = Plan {
        duration: flags.duration.map(|d| d + flags.ramp_up()),
        runs: (flags.max_runs).map(|runs| {
            runs.saturating_mul(u64::from(flags.workers()) * u64::from(flags.processes))
        }),
    };
    let show = {
        let (console, progress) = (console.clone(), Arc::clone(&progress));
        let every = console.update_every(flags.console_update);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                ticks.tick().await;
                let mut total = Progress::default();
                for part in progress.lock().expect("progress").iter() {
                    total.add(part);
                }
                console.progress(&total, started.elapsed(), plan);
            }
        })
    };
    let waited = wait_for_children(children, handshakes, &console).await;
    show.abort();
    console.finish_progress();
    let results = outs
        .iter()
        .enumerate()
        .map(|(process, out)| read_result(process, out))
        .collect::<anyhow::Result<Vec<RawResults>>>();
    drop(scratch);
    waited?;
    let results = results?;

    let mut tally = Tally::default();
    let mut timeline = Timeline::new(flags.timeline_every.as_secs_f64());
    for result in &results {
        tally.merge(&result.tally);
        timeline.merge(&result.timeline, 0.0);
    }
    let facts = RunFacts {
        component: flags.shown_component(),
        component_sha256: runner::sha256_of(&flags.component)?,
        flags: flags.command_line.clone(),
        started_at_ms: results
            .iter()
            .map(|r| r.started_at_ms)
            .min()
            .unwrap_or_default(),
        late_s: results.iter().filter_map(|r| r.late_s).reduce(f64::max),
        shard: flags
            .resolved_shard
            .map(|s| format!("{}/{}", s.index, s.count)),
        workers: flags.workers(),
        processes: flags.processes,
        workers_per_instance: results.iter().filter_map(|r| r.workers_per_instance).max(),
        duration_s: started.elapsed().as_secs_f64(),
        stopped_by: merged_reason(results.iter().map(|r| r.stopped_by)),
        // The process that passed the tolerance (and so stopped the others).
        sizing: results
            .iter()
            .filter_map(|r| r.sizing)
            .find(|s| s.reached)
            .or_else(|| results.iter().find_map(|r| r.sizing)),
    };
    let mut report = Report::new(facts, &tally);
    // Judged on the whole: a child's share of the rate is not the rate.
    report.judge(&flags.threshold, &tally);
    report.timeline = timeline;
    let failed = results.iter().any(|r| r.failed) || report.fails_run(flags.exception, flags.fail);
    Ok(Outcome {
        report,
        tally,
        failed,
        plan: flags.plan.clone(),
        shard: flags.resolved_shard,
    })
}

/// Waits for every child, passing each Ctrl+C on to all of them; when one
/// stops on a rule (`-x`, `-f`, sizing, a failed setup), the others stop too.
async fn wait_for_children(
    children: Vec<(Child, PathBuf)>,
    handshakes: Vec<Arc<Interruptible>>,
    console: &Console,
) -> anyhow::Result<()> {
    let interrupt_all = || {
        for handshake in &handshakes {
            handshake.interrupt();
        }
    };
    let mut interrupts = crate::interrupts::subscribe();
    let mut waiting = JoinSet::new();
    for (process, (mut child, out)) in children.into_iter().enumerate() {
        waiting.spawn(async move { (process, child.wait().await, out) });
    }
    loop {
        tokio::select! {
            finished = waiting.join_next() => {
                let Some(finished) = finished else { return Ok(()) };
                let (process, status, out) = finished?;
                if status?.code() == Some(2) {
                    interrupt_all();
                    bail!("process {process} could not run (its error is above)");
                }
                let stopped_on_a_rule = read_result(process, &out).is_ok_and(|r| {
                    !matches!(r.stopped_by, StopReason::Duration | StopReason::Completed | StopReason::Interrupted)
                });
                if stopped_on_a_rule {
                    interrupt_all();
                }
            }
            Ok(()) = interrupts.changed() => {
                interrupts.borrow_and_update();
                console.note("passing Ctrl+C on to every process");
                interrupt_all();
            }
        }
    }
}

/// Keeps the latest progress a child reported on its stdout, after its
/// [`READY`] line.
async fn follow_progress(
    stdout: ChildStdout,
    progress: Arc<Mutex<Vec<Progress>>>,
    process: usize,
    handshake: Arc<Interruptible>,
) {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line == READY {
            handshake.ready();
            continue;
        }
        if let Ok(latest) = serde_json::from_str::<Progress>(&line) {
            progress.lock().expect("progress")[process] = latest;
        }
    }
}

fn read_result(process: usize, path: &Path) -> anyhow::Result<RawResults> {
    if !path.exists() {
        anyhow::bail!("process {process} left no results");
    }
    RawResults::read(path).with_context(|| format!("process {process} left broken results"))
}
