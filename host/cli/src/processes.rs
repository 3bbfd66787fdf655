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

use crate::console::Console;
use crate::interrupts::EXIT_INTERRUPTED;
use crate::live_view::Plan;
use crate::merge::Joined;
use crate::plan::{LoadModel, RunPlan};
use crate::raw::RawResults;
use crate::runner::{self, Outcome};
use molotov_metrics::{Progress, Report, RunFacts, StopReason};

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

/// Runs `-p` children with the command line `argv` (the parent's own) and
/// merges what they measured.
pub async fn run(plan: RunPlan, argv: &[OsString]) -> anyhow::Result<Outcome> {
    let output = &plan.output;
    let console = Console::new(output.quiet, output.verbose, output.plain_console);
    // Compiled once here, every child then loads the component from the cache.
    runner::load(&plan).await?;
    let target = runner::target(&plan, &console).await?;
    let processes = plan.part.processes;
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
    let progress = Arc::new(Mutex::new(vec![Progress::default(); processes as usize]));
    let mut handshakes = Vec::new();
    // A k6 script's scenarios share one run of its setup and teardown.
    let fixtures = match plan.part.k6_scenarios.is_empty() {
        true => None,
        false => {
            let fixtures = runner::ParentFixtures::setup(&plan, &target).await?;
            let path = scratch.path().join("fixtures.json");
            fixtures.write_vars(&path)?;
            Some((fixtures, path))
        }
    };
    let scenarios_start = std::time::SystemTime::now();
    for process in 0..processes {
        let out = scratch.path().join(format!("{process}.json"));
        let mut child = Command::new(&exe)
            .args(&argv[1..])
            .args(["--processes", "1", "--target", target.as_str()])
            .args(child_overrides(&plan))
            .args(scenario_overrides(&plan, process, scenarios_start))
            .args(fixtures.iter().flat_map(|(_, path)| {
                [
                    OsString::from("--fixtures-from"),
                    path.as_os_str().to_owned(),
                ]
            }))
            .arg("--env")
            .arg(format!("MOLOTOV_PROCESS={process}"))
            .args(["--run-id", &plan.part.run_id])
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
    let scenarios = &plan.part.k6_scenarios;
    console.note(&match scenarios.is_empty() {
        true => format!(
            "running {} processes of {} workers each",
            processes, plan.load.workers
        ),
        false => format!(
            "running the script's scenarios in a process each: {}",
            scenarios
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    let progress_plan = Plan {
        duration: plan.load.duration.map(|d| d + plan.load.ramp_up()),
        runs: (plan.load.max_runs)
            .map(|runs| runs.saturating_mul(u64::from(plan.load.workers) * u64::from(processes))),
    };
    let show = {
        let (console, progress) = (console.clone(), Arc::clone(&progress));
        let every = console.update_every(plan.output.console_update);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                ticks.tick().await;
                let mut total = Progress::default();
                for part in progress.lock().expect("progress").iter() {
                    total.add(part);
                }
                console.progress(&total, started.elapsed(), progress_plan);
            }
        })
    };
    let waited = wait_for_children(children, handshakes, &console).await;
    show.abort();
    console.finish_progress();
    let fixtures_tally = match fixtures {
        Some((fixtures, _)) => {
            let (tally, failed) = fixtures.teardown(plan.stop.graceful_stop).await;
            if let Some(why) = failed {
                console.note(&format!("global-teardown failed: {why}"));
            }
            Some(tally)
        }
        None => None,
    };
    let exit_codes = waited.as_deref().unwrap_or_default();
    let results = outs
        .iter()
        .enumerate()
        // Stopped before its run began (another's stop rule, Ctrl+C), a
        // child ran nothing, and leaves nothing to merge.
        .filter(|(process, out)| {
            let ran =
                out.exists() || exit_codes.get(*process) != Some(&Some(EXIT_INTERRUPTED.into()));
            if !ran {
                console.note(&format!("process {process} stopped before its run began"));
            }
            ran
        })
        .map(|(process, out)| read_result(process, out))
        .collect::<anyhow::Result<Vec<RawResults>>>();
    drop(scratch);
    waited?;
    let results = results?;
    if results.is_empty() {
        return Err(crate::interrupts::Interrupted.into());
    }

    let mut joined = Joined::of(results.iter(), plan.output.timeline_every.as_secs_f64());
    // The fixtures' requests are the run's too.
    if let Some(fixtures) = &fixtures_tally {
        joined.tally.merge(fixtures);
    }
    let facts = RunFacts {
        component: plan.component.shown.clone(),
        component_sha256: plan.component.sha256.clone(),
        flags: plan.command_line.clone(),
        started_at_ms: joined.started_at_ms,
        late_s: joined.late_s,
        shard: plan.part.shown_shard(),
        workers: joined.workers,
        // Those that ran: one stopped before its run began has no part in it.
        processes: results.len() as u32,
        workers_per_instance: joined.workers_per_instance,
        duration_s: started.elapsed().as_secs_f64(),
        stopped_by: joined.stopped_by,
        // The process that passed the tolerance (and so stopped the others).
        sizing: results
            .iter()
            .filter_map(|r| r.sizing)
            .find(|s| s.reached)
            .or_else(|| results.iter().find_map(|r| r.sizing)),
    };
    let mut report = Report::new(facts, &joined.tally);
    // Judged on the whole: a child's share of the rate is not the rate.
    report.judge(
        &plan.stop.thresholds,
        &joined.tally,
        plan.identity.k6.as_ref(),
    );
    report.timeline = joined.timeline;
    let failed = joined.failed || report.fails_run(plan.stop.exception, plan.stop.fail);
    Ok(Outcome {
        report,
        tally: joined.tally,
        failed,
        identity: plan.identity,
        shard: plan.part.shard,
    })
}

/// What a child is told beyond the parent's command line: an equal share
/// of the open model's rate and rate stages (the shares sum to the rate
/// asked), and, in a shard, the shard's workers (or stages) and variables.
fn child_overrides(plan: &RunPlan) -> Vec<String> {
    let mut flags = Vec::new();
    if let LoadModel::Open { rate, stages } = &plan.load.model {
        let share = 1.0 / f64::from(plan.part.processes);
        flags.extend(["--rate".to_string(), (rate * share).to_string()]);
        if let Some(stages) = stages {
            flags.extend(["--stages".to_string(), stages.scaled(share).to_string()]);
        }
    }
    if let Some(shard) = plan.part.shard {
        // The plan holds the shard's share already.
        match &plan.load.model {
            LoadModel::Staged(stages) => flags.extend(["--stages".to_string(), stages.to_string()]),
            _ => flags.extend(["-w".to_string(), plan.load.workers.to_string()]),
        }
        for (key, value) in shard.variables() {
            flags.extend(["--env".to_string(), format!("{key}={value}")]);
        }
    }
    flags
}

/// For a k6 script's several scenarios: the one `process` runs, and when
/// it starts (its `startTime` after `started`).
fn scenario_overrides(plan: &RunPlan, process: u32, started: std::time::SystemTime) -> Vec<String> {
    let Some(scenario) = plan.part.k6_scenarios.get(process as usize) else {
        return Vec::new();
    };
    let mut flags = vec!["--k6-scenario".to_string(), scenario.name.clone()];
    if !scenario.start_after.is_zero() {
        let at = humantime::format_rfc3339_millis(started + scenario.start_after);
        flags.extend(["--start-at".to_string(), at.to_string()]);
    }
    flags
}

/// Waits for every child, passing each Ctrl+C on to all of them; when one
/// stops on a rule (`-x`, `-f`, sizing, a failed setup), the others stop too.
/// Returns their exit codes, by process.
async fn wait_for_children(
    children: Vec<(Child, PathBuf)>,
    handshakes: Vec<Arc<Interruptible>>,
    console: &Console,
) -> anyhow::Result<Vec<Option<i32>>> {
    let interrupt_all = || {
        for handshake in &handshakes {
            handshake.interrupt();
        }
    };
    let mut interrupts = crate::interrupts::subscribe();
    let mut exit_codes = vec![None; children.len()];
    let mut waiting = JoinSet::new();
    for (process, (mut child, out)) in children.into_iter().enumerate() {
        waiting.spawn(async move { (process, child.wait().await, out) });
    }
    loop {
        tokio::select! {
            finished = waiting.join_next() => {
                let Some(finished) = finished else { return Ok(exit_codes) };
                let (process, status, out) = finished?;
                exit_codes[process] = status?.code();
                if exit_codes[process] == Some(2) {
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::plan::ComponentRef;

    /// What `-p` children of `molotov run x.wasm ARGS…` are told, in shard
    /// 1 of 2 when `sharded`.
    fn overrides(args: &[&str], sharded: bool) -> Vec<String> {
        let argv = ["molotov", "run", "x.wasm"].iter().chain(args);
        let Command::Run(flags) = Cli::try_parse_from(argv).expect("flags").command else {
            unreachable!("a run");
        };
        let component = ComponentRef {
            path: "x.wasm".into(),
            shown: "x.wasm".into(),
            sha256: String::new(),
        };
        let env = move |name: &str| match (name, sharded) {
            ("SLURM_ARRAY_TASK_ID", true) => Some("1".to_string()),
            ("SLURM_ARRAY_TASK_COUNT", true) => Some("2".to_string()),
            _ => None,
        };
        let plan = crate::planning::plan(*flags, component, String::new(), env).expect("a plan");
        child_overrides(&plan)
    }

    #[test]
    fn children_share_the_rate_and_a_shard_gives_them_its_part() {
        assert!(overrides(&["-p", "2", "-w", "10"], false).is_empty());
        assert_eq!(
            overrides(&["-p", "2", "--rate", "100", "--stages", "10s:300"], false),
            ["--rate", "50", "--stages", "10s:150"]
        );
        let shard_vars = ["--env", "MOLOTOV_SHARD=1", "--env", "MOLOTOV_SHARD_COUNT=2"];
        let closed = overrides(&["-p", "2", "-w", "10"], true);
        assert_eq!(closed, [&["-w", "5"][..], &shard_vars].concat());
        let staged = overrides(&["-p", "2", "--stages", "10s:8"], true);
        assert_eq!(staged, [&["--stages", "10s:4"][..], &shard_vars].concat());
        let open = overrides(&["-p", "2", "--rate", "100"], true);
        assert_eq!(
            open,
            [&["--rate", "25", "-w", "50"][..], &shard_vars].concat()
        );
    }
}
