//! From the parsed flags (`molotov.json` already applied) to a [`RunPlan`]:
//! defaults that depend on other flags, the combinations refused, and a
//! shard's share of the run. The one place where `run`'s flags are read.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::cli::RunFlags;
use crate::plan::{
    ComponentRef, HttpPlan, LoadModel, LoadPlan, Part, RemoteWritePlan, ResultFiles, RunIdentity,
    RunPlan, StopRules,
};
use crate::plan::{Limits, OutputPlan};
use crate::shard::Shard;

/// Pre-allocated workers of the open model when `-w` is not given.
const OPEN_MODEL_WORKERS: u32 = 100;

/// Molotov's `--sizing` defaults: 500 workers over 300 s.
const SIZING_WORKERS: u32 = 500;
const SIZING_RAMP_UP: Duration = Duration::from_secs(300);

const MIB: usize = 1024 * 1024;

/// The plan of the run `flags` ask for, with `component` to run. `env`
/// reads the scheduler's variables (a shard's index).
pub fn plan(
    flags: RunFlags,
    component: ComponentRef,
    command_line: String,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<RunPlan> {
    refuse_conflicts(&flags)?;
    let identity = RunIdentity {
        workers: flags.workers,
        duration_s: flags.duration.map(|d| d.as_secs_f64()),
        max_runs: flags.max_runs,
        rate: flags.rate,
        stages: flags.stages.as_ref().map(ToString::to_string),
        single_run: flags.single_run,
        single_mode: flags.single_mode.clone(),
        delay_s: flags.delay.as_secs_f64(),
        processes: flags.processes,
        k6: None,
    };
    // A `-p` child was given its share by its parent.
    let shard = match flags.tally_out {
        Some(_) => None,
        None => Shard::detect(flags.shard, flags.shard_count, env)?,
    };
    let (model, workers, first_worker) = load_model(&flags, shard);
    let mut variables = flags.env;
    variables.extend(shard.iter().flat_map(Shard::variables));
    let run_id = match flags.run_id.is_empty() {
        true => format!("{:016x}", rand::random::<u64>()),
        false => flags.run_id,
    };
    Ok(RunPlan {
        component,
        cache_dir: flags.cache_dir.or_else(molotov_runtime::default_cache_dir),
        load: LoadPlan {
            workers,
            first_worker,
            model,
            duration: flags.duration,
            max_runs: flags.max_runs,
            single_run: flags.single_run,
            single_mode: flags.single_mode,
            delay: flags.delay,
            start_at: flags.start_at,
        },
        stop: StopRules {
            graceful_stop: flags.graceful_stop,
            force_shutdown: flags.force_shutdown,
            exception: flags.exception,
            fail: flags.fail,
            thresholds: flags.threshold,
        },
        http: HttpPlan {
            target: flags.target,
            allow_hosts: flags.allow_host,
            egress_allow: flags.egress_allow,
            egress_deny: flags.egress_deny,
            egress_strict: flags.egress_strict,
            connect_to: flags.connect_to,
            ca_certs: flags.ca_cert,
            insecure: flags.insecure,
            timeout: flags.timeout,
        },
        limits: Limits {
            max_body_bytes: flags.max_body_mib as usize * MIB,
            max_open: flags.max_open,
            max_connections: flags.max_connections,
            ws_max_frame_rate: flags.ws_max_frame_rate,
            grpc_max_messages: flags.grpc_max_messages as usize,
            max_request_names: flags.max_request_names as usize,
            max_metric_names: flags.max_metric_names as usize,
            max_vars_bytes: flags.max_vars_mib as usize * MIB,
            max_output_lines: flags.max_output,
            max_memory_bytes: flags.max_memory_mib as usize * MIB,
            guest_deadline: flags.guest_deadline,
            workers_per_instance: flags.workers_per_instance,
        },
        output: OutputPlan {
            quiet: flags.quiet,
            verbose: flags.verbose,
            plain_console: flags.console,
            console_update: flags.console_update,
            timeline_every: flags.timeline_every,
            statsd: flags.statsd.then_some(flags.statsd_address),
            dashboard: flags.dashboard,
            remote_write: flags.prometheus_rw.map(|url| RemoteWritePlan {
                url,
                user: flags.prometheus_rw_user,
                labels: flags.prometheus_label,
                every: flags.prometheus_rw_every,
            }),
            files: ResultFiles {
                json: flags.json,
                html: flags.html,
                junit: flags.junit,
                raw: flags.raw,
            },
        },
        part: Part {
            processes: flags.processes,
            shard,
            run_id,
            child_results: flags.tally_out,
            k6_scenarios: Vec::new(),
            fixtures_from: flags.fixtures_from,
        },
        env: variables,
        command_line,
        identity,
    })
}

/// The flags that cannot go together, refused before the run with why.
fn refuse_conflicts(flags: &RunFlags) -> anyhow::Result<()> {
    let open = flags.rate.is_some();
    let staged = flags.stages.is_some();
    let refused = [
        (
            open && flags.sizing,
            "--rate with --sizing: sizing adds workers, the open model fixes the rate",
        ),
        (
            open && flags.max_runs.is_some(),
            "--rate with -r: runs are started by the rate, not per worker",
        ),
        (
            open && flags.single_run,
            "--rate with --single-run: a single run is not a rate",
        ),
        (
            open && flags.ramp_up.is_some(),
            "--rate with --ramp-up: ramp the rate with --stages",
        ),
        (
            staged && flags.sizing,
            "--stages with --sizing: both set the workers over time",
        ),
        (
            staged && flags.ramp_up.is_some(),
            "--stages with --ramp-up: the stages are the ramp",
        ),
        (staged && flags.single_run, "--stages with --single-run"),
        (
            !open && staged && flags.workers.is_some(),
            "-w with --stages: the stages' targets are the workers",
        ),
        (
            flags.dashboard.is_some() && flags.processes > 1,
            "--dashboard shows one process's run: it cannot go with -p",
        ),
    ];
    match refused.iter().find(|(refused, _)| *refused) {
        Some((_, why)) => bail!("{why}"),
        None => Ok(()),
    }
}

/// The workers of the whole run the flags ask for, over every shard: the
/// closed model's highest stage, or `-w` (with its default per model).
pub fn all_workers(flags: &RunFlags) -> u32 {
    match (flags.rate, &flags.stages) {
        (None, Some(stages)) => stages.highest(0.0).ceil().max(1.0) as u32,
        _ => workers_asked(flags),
    }
}

fn workers_asked(flags: &RunFlags) -> u32 {
    flags.workers.unwrap_or(if flags.sizing {
        SIZING_WORKERS
    } else if flags.rate.is_some() {
        OPEN_MODEL_WORKERS
    } else {
        1
    })
}

/// The load model, this process's workers and the global id of its first:
/// in a shard, its share of the workers, the rate and the stages.
fn load_model(flags: &RunFlags, shard: Option<Shard>) -> (LoadModel, u32, u32) {
    let share = shard.map_or(1.0, |shard| 1.0 / f64::from(shard.count));
    let workers_asked = workers_asked(flags);
    let (first_worker, workers) = match shard {
        Some(shard) => shard.share(workers_asked),
        None => (0, workers_asked),
    };
    match (flags.rate, &flags.stages) {
        (Some(rate), stages) => {
            let stages = stages.as_ref().map(|stages| stages.scaled(share));
            let model = LoadModel::Open {
                rate: rate * share,
                stages,
            };
            (model, workers, first_worker)
        }
        (None, Some(stages)) => {
            let first_worker = shard.map_or(0, |shard| shard.share(all_workers(flags)).0);
            let stages = stages.scaled(share);
            let workers = stages.highest(0.0).ceil().max(1.0) as u32;
            (LoadModel::Staged(stages), workers, first_worker)
        }
        (None, None) => {
            let model = LoadModel::Closed {
                ramp_up: flags.ramp_up.unwrap_or(if flags.sizing {
                    SIZING_RAMP_UP
                } else {
                    Duration::ZERO
                }),
                sizing: flags.sizing.then_some(flags.sizing_tolerance),
            };
            (model, workers, first_worker)
        }
    }
}

/// The component at `path`, shown as `shown`, with its SHA-256.
pub fn component(path: PathBuf, shown: String) -> anyhow::Result<ComponentRef> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(ComponentRef {
        sha256: format!("{:x}", Sha256::digest(bytes)),
        path,
        shown,
    })
}

/// The command line as a report shows it: arguments joined by spaces, the
/// values of `--env` hidden (they may hold secrets).
pub fn shown_command_line(argv: &[OsString]) -> String {
    let mut shown = Vec::new();
    let mut hide_next = false;
    for arg in argv.iter().skip(1).map(|a| a.to_string_lossy()) {
        if hide_next {
            shown.push(format!("{}=…", arg.split('=').next().unwrap_or_default()));
            hide_next = false;
        } else if let Some(pair) = arg.strip_prefix("--env=") {
            shown.push(format!(
                "--env={}=…",
                pair.split('=').next().unwrap_or_default()
            ));
        } else {
            hide_next = arg == "--env";
            shown.push(without_secrets(&arg));
        }
    }
    shown.join(" ")
}

/// A URL argument without its user, password and query (they may hold
/// keys); any other argument as it is.
fn without_secrets(arg: &str) -> String {
    let (flag, value) = match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => (format!("{flag}="), value),
        _ => (String::new(), arg),
    };
    match url::Url::parse(value) {
        Ok(mut url) if url.has_host() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            let hidden = if url.query().is_some() { "?…" } else { "" };
            url.set_query(None);
            format!("{flag}{url}{hidden}")
        }
        _ => arg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::plan::Stages;
    use clap::Parser;

    /// The flags of `molotov run x.wasm ARGS…`, as clap parses them.
    fn flags(args: &[&str]) -> RunFlags {
        let argv = ["molotov", "run", "x.wasm"].iter().chain(args);
        match Cli::try_parse_from(argv).expect("valid flags").command {
            Command::Run(flags) => *flags,
            _ => unreachable!("a run"),
        }
    }

    fn component() -> ComponentRef {
        ComponentRef {
            path: "x.wasm".into(),
            shown: "x.wasm".into(),
            sha256: "00".into(),
        }
    }

    /// The plan of those flags, in the scheduler environment `env`.
    fn plan_in(
        args: &[&str],
        env: &'static [(&'static str, &'static str)],
    ) -> anyhow::Result<RunPlan> {
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        plan(flags(args), component(), String::new(), lookup)
    }

    fn plan_of(args: &[&str]) -> RunPlan {
        plan_in(args, &[]).expect("a plan")
    }

    #[test]
    fn defaults_depend_on_the_load_model() {
        let closed = plan_of(&[]);
        assert_eq!((closed.load.workers, closed.load.first_worker), (1, 0));
        assert_eq!(closed.load.length(), Some(crate::plan::DEFAULT_DURATION));
        assert_eq!(plan_of(&["-r", "3"]).load.length(), None);
        assert_eq!(plan_of(&["--rate", "50"]).load.workers, OPEN_MODEL_WORKERS);
        let sizing = plan_of(&["--sizing", "--sizing-tolerance", "2"]).load;
        assert_eq!(sizing.workers, SIZING_WORKERS);
        assert_eq!(sizing.ramp_up(), SIZING_RAMP_UP);
        assert_eq!(sizing.sizing_tolerance(), Some(2.0));
        let staged = plan_of(&["--stages", "10s:4,20s:9,5s:0"]).load;
        assert_eq!(staged.workers, 9);
        assert_eq!(staged.length(), Some(Duration::from_secs(35)));
        assert!(matches!(staged.model, LoadModel::Staged(_)));
    }

    #[test]
    fn flags_that_cannot_go_together_are_refused_with_why() {
        for (args, why) in [
            (&["--rate", "5", "--sizing"][..], "--rate with --sizing"),
            (&["--rate", "5", "-r", "2"], "--rate with -r"),
            (&["--rate", "5", "--single-run"], "--rate with --single-run"),
            (&["--rate", "5", "--ramp-up", "3"], "--rate with --ramp-up"),
            (&["--stages", "1s:2", "--sizing"], "--stages with --sizing"),
            (
                &["--stages", "1s:2", "--ramp-up", "1"],
                "--stages with --ramp-up",
            ),
            (
                &["--stages", "1s:2", "--single-run"],
                "--stages with --single-run",
            ),
            (&["--stages", "1s:2", "-w", "3"], "-w with --stages"),
            (&["--dashboard", "-p", "2"], "--dashboard shows one process"),
        ] {
            let error = plan_in(args, &[]).unwrap_err().to_string();
            assert!(error.starts_with(why), "{args:?}: {error}");
        }
        assert!(plan_in(&["--rate", "5", "--stages", "1s:9", "-w", "3"], &[]).is_ok());
    }

    #[test]
    fn a_shard_takes_its_share_and_keeps_the_runs_identity() {
        let whole = plan_of(&["-w", "10"]);
        let shard = plan_in(&["-w", "10", "--shard", "1/3"], &[]).unwrap();
        assert_eq!((shard.load.first_worker, shard.load.workers), (4, 3));
        assert_eq!(shard.part.shown_shard().as_deref(), Some("1/3"));
        assert!(shard.env.contains(&("MOLOTOV_SHARD".into(), "1".into())));
        assert!(
            shard
                .env
                .contains(&("MOLOTOV_SHARD_COUNT".into(), "3".into()))
        );
        assert!(whole.identity.check_same(&shard.identity).is_ok());

        let slurm = &[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ];
        let open = plan_in(&["--rate", "100", "--stages", "10s:300"], slurm).unwrap();
        let LoadModel::Open { rate, stages } = &open.load.model else {
            panic!("the open model");
        };
        assert_eq!(*rate, 50.0);
        assert_eq!(stages.as_ref(), Some(&"10s:150".parse::<Stages>().unwrap()));
        assert_eq!((open.load.first_worker, open.load.workers), (50, 50));

        let staged = plan_in(&["--stages", "10s:10"], &[("JOB_COMPLETION_INDEX", "1")]);
        assert!(staged.unwrap_err().to_string().contains("--shard-count"));
        let staged = plan_in(
            &["--stages", "10s:10", "--shard-count", "4"],
            &[("JOB_COMPLETION_INDEX", "1")],
        )
        .unwrap();
        assert_eq!((staged.load.first_worker, staged.load.workers), (3, 3));
    }

    #[test]
    fn a_child_of_p_was_given_its_share_by_its_parent() {
        let slurm = &[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ];
        let child = plan_in(&["-w", "8", "--tally-out", "out.json"], slurm).unwrap();
        assert!(child.part.is_child());
        assert_eq!((child.part.shard, child.load.workers), (None, 8));
    }

    #[test]
    fn reports_show_no_secrets_of_the_command_line() {
        let argv: Vec<std::ffi::OsString> = [
            "molotov",
            "run",
            "x.wasm",
            "--env",
            "TOKEN=s3cret",
            "--env=KEY=hidden",
            "--target",
            "https://user:pw@api.example.com/v1?api_key=k",
            "--prometheus-rw=http://127.0.0.1:9090/api/v1/write?token=t",
        ]
        .into_iter()
        .map(Into::into)
        .collect();
        let shown = shown_command_line(&argv);
        assert_eq!(
            shown,
            "run x.wasm --env TOKEN=… --env=KEY=… --target https://api.example.com/v1?… \
             --prometheus-rw=http://127.0.0.1:9090/api/v1/write?…"
        );
    }
}
