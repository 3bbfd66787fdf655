//! The `molotov` command: parse the flags, run, map the outcome to an exit code.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use molotov::cli::{Cli, Command, RunFlags};
use molotov::k6_summary;
use molotov::raw::RawResults;
use molotov::terminal::terminal_safe;
use molotov_metrics::StopReason;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The run completed but `-x` or `-f` failed it.
const EXIT_FAILED: u8 = 1;
/// The run could not happen: bad flags, an unusable component, a failed global setup.
const EXIT_CANNOT_RUN: u8 = 2;
/// The run sent requests and not one reached a server.
const EXIT_NO_SERVER_REACHED: u8 = 3;

fn main() -> ExitCode {
    let argv: Vec<_> = std::env::args_os().collect();
    let parsed = match Cli::try_parse_from(&argv) {
        Ok(parsed) => parsed,
        Err(error) => match molotov::config::missing_test(&error, &argv) {
            Some(problem) => return cannot_run(&problem),
            None => error.exit(),
        },
    };
    let cli = match molotov::config::apply(parsed, argv.clone()) {
        Ok(cli) => cli,
        Err(error) => return cannot_run(&error),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return cannot_run(&anyhow::anyhow!("cannot start the async runtime: {error}"));
        }
    };
    match cli.command {
        Command::Serve(args) => {
            match runtime.block_on(molotov::serve::serve(([127, 0, 0, 1], args.port).into())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => cannot_run(&error),
            }
        }
        Command::New(args) => {
            match molotov::scaffold::create(&args.dir, args.lang, args.sdk.as_deref()) {
                Ok(created) => {
                    println!(
                        "created {dir}: cd {dir} && {first_run}   (the first run builds it)",
                        dir = args.dir.display(),
                        first_run = created.first_run,
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => cannot_run(&error),
            }
        }
        Command::Vendor(args) => match vendor(&args) {
            Ok(dir) => {
                println!(
                    "wrote molotov {} SDK into {}",
                    env!("CARGO_PKG_VERSION"),
                    dir.display()
                );
                ExitCode::SUCCESS
            }
            Err(error) => cannot_run(&error),
        },
        Command::Build(args) => {
            runtime.block_on(async { molotov::interrupts::subscribe() });
            let built = molotov::build::build(
                &args.project,
                args.output.as_deref(),
                (args.cache_dir.clone())
                    .or_else(molotov_runtime::default_cache_dir)
                    .as_deref(),
                molotov::build::Chatter::Shown,
            );
            match built {
                Ok(component) => {
                    println!("built {}", component.display());
                    ExitCode::SUCCESS
                }
                Err(error) => cannot_run(&error),
            }
        }
        Command::Run(args) => run(&runtime, *args, &argv),
        Command::Merge(args) => merge(&args),
        Command::Report(args) => match molotov::report::report(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => cannot_run(&error),
        },
    }
}

/// `molotov vendor`: the SDK of the project's language (or `--lang`'s).
fn vendor(args: &molotov::cli::VendorArgs) -> anyhow::Result<std::path::PathBuf> {
    let language = match args.lang {
        Some(language) => language,
        None => molotov::build::Project::detect(&args.dir)?.language,
    };
    molotov::sdk::vendor(&args.dir, language)
}

fn run(runtime: &tokio::runtime::Runtime, flags: RunFlags, argv: &[OsString]) -> ExitCode {
    // Ctrl+C is ours from here: it stops a build or compile at once too.
    runtime.block_on(async { molotov::interrupts::subscribe() });
    let plan = match plan(runtime, flags, argv) {
        Ok(plan) => plan,
        Err(error) => return cannot_run(&error),
    };
    // A k6 script is asked for its `handleSummary` after the run.
    let script_plan = (plan.identity.k6.is_some()).then(|| plan.clone());
    let files = plan.output.files.clone();
    let (quiet, child_results) = (plan.output.quiet, plan.part.child_results.clone());
    if let Some(path) = &child_results {
        // A child of `-p`: its parent checks the results files, and may
        // interrupt it from now on.
        println!("{}", molotov::processes::READY);
        return match runtime.block_on(molotov::runner::run(plan)) {
            Ok(outcome) => match RawResults::of(&outcome).write(path) {
                Ok(()) => exit_code(&outcome),
                Err(error) => cannot_run(&error),
            },
            Err(error) => cannot_run(&error),
        };
    }
    let outputs = [
        ("--json", &files.json),
        ("--html", &files.html),
        ("--junit", &files.junit),
        ("--raw", &files.raw),
    ];
    for (flag, path) in outputs {
        if let Some(path) = path
            && let Err(error) = check_writable(path)
        {
            return cannot_run(&anyhow::anyhow!("{flag} {}: {error}", path.display()));
        }
    }
    let outcome = if plan.part.processes > 1 {
        runtime.block_on(molotov::processes::run(plan, argv))
    } else {
        runtime.block_on(molotov::runner::run(plan))
    };
    match outcome {
        Ok(outcome) => {
            // After Ctrl+C the script is not entered again: its results are
            // shown in k6's terms by molotov.
            let interrupted = outcome.report.stopped_by == StopReason::Interrupted;
            let summary_outputs = match (&script_plan, &outcome.report.k6) {
                (Some(plan), Some(k6)) if !interrupted => {
                    let data = k6_summary::handle_summary_data(&outcome.report, k6);
                    runtime.block_on(molotov::runner::handle_summary(plan, &data.to_string()))
                }
                _ => Ok(None),
            };
            if !quiet {
                print!("{}", terminal_safe(&outcome.report.summary()));
                // A script's own summary replaces k6's default one, as in k6.
                if let Some(k6) = &outcome.report.k6
                    && !matches!(summary_outputs, Ok(Some(_)))
                {
                    print!("{}", terminal_safe(&k6_summary::summary(k6)));
                }
            }
            let max_summary_bytes = script_plan.as_ref().map_or(0, |p| p.limits.max_body_bytes);
            let written = write_results(&outcome, [&files.json, &files.html, &files.junit])
                .and_then(|()| {
                    (files.raw.as_ref()).map_or(Ok(()), |path| RawResults::of(&outcome).write(path))
                })
                .and_then(|()| match summary_outputs? {
                    Some(outputs) => k6_summary::write_outputs(&outputs, max_summary_bytes),
                    None => Ok(()),
                });
            match written {
                Ok(()) => exit_code(&outcome),
                Err(error) => cannot_run(&error),
            }
        }
        Err(error) => cannot_run(&error),
    }
}

/// The run's plan: its component built first when a source was named, and
/// a script's options (a k6 script's) taken as defaults of the flags, its
/// thresholds kept as it wrote them.
fn plan(
    runtime: &tokio::runtime::Runtime,
    flags: RunFlags,
    argv: &[OsString],
) -> anyhow::Result<molotov::plan::RunPlan> {
    let cache_dir = (flags.cache_dir.clone()).or_else(molotov_runtime::default_cache_dir);
    let chatter = if flags.verbose > 0 {
        molotov::build::Chatter::Shown
    } else {
        molotov::build::Chatter::Hidden
    };
    let named = &flags.component;
    let built = molotov::build::component_for(named, cache_dir.as_deref(), chatter, flags.quiet)?;
    let shown = match built == *named {
        true => named.display().to_string(),
        false => molotov::build::shown_name(named).display().to_string(),
    };
    let component = molotov::planning::component(built, shown.clone())?;
    let command_line = molotov::planning::shown_command_line(argv);
    let environment = |name: &str| std::env::var(name).ok();
    let quiet = flags.quiet;
    let k6_scenario = flags.k6_scenario.clone();
    let plan =
        molotov::planning::plan(flags, component.clone(), command_line.clone(), environment)?;
    let Some(options) = runtime.block_on(molotov::runner::run_options(&plan))? else {
        return Ok(plan);
    };
    let defaults = molotov::k6_options::flag_defaults(&options, k6_scenario.as_deref())
        .map_err(|error| anyhow::anyhow!("{shown}: {error}"))?;
    if !quiet && !defaults.left_out.is_empty() {
        eprintln!(
            "{shown}: k6 options left out: {}",
            defaults.left_out.join("; ")
        );
    }
    let flags = molotov::config::with_script_options(argv.to_vec(), (&shown, &defaults.flags))?;
    let mut plan = molotov::planning::plan(flags, component, command_line, environment)?;
    plan.identity.k6 = Some(defaults.script);
    let scenarios = defaults.scenarios.len();
    if scenarios > 0 && plan.part.processes as usize != scenarios {
        anyhow::bail!("{shown}: its {scenarios} scenarios run in a process each: leave out -p");
    }
    plan.part.k6_scenarios = defaults.scenarios;
    if let Some(name) = &k6_scenario {
        // k6 numbers VUs over the whole test: this scenario's come after
        // those of the scenarios before it, each in a process of its own.
        for before in molotov::k6_options::scenarios_before(&options, name)? {
            let defaults = molotov::k6_options::flag_defaults(&options, Some(&before))?;
            let flags =
                molotov::config::with_script_options(argv.to_vec(), (&shown, &defaults.flags))?;
            plan.load.first_worker += molotov::planning::all_workers(&flags);
        }
    }
    Ok(plan)
}

/// Whether a results file can be written at `path`, found before the run
/// rather than after it: an existing file is opened without being changed, a
/// new one is created and removed again (in a directory, one of its own).
fn check_writable(path: &std::path::Path) -> std::io::Result<()> {
    if path.is_dir() {
        return check_writable(&path.join(format!(".molotov-check-{}", std::process::id())));
    }
    if path.exists() {
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop);
    }
    std::fs::File::create(path)?;
    std::fs::remove_file(path)
}

/// Writes the results files asked for, `[--json, --html, --junit]`, as
/// `run` and `merge` both do.
fn write_results(
    outcome: &molotov::runner::Outcome,
    [json, html, junit]: [&Option<std::path::PathBuf>; 3],
) -> anyhow::Result<()> {
    if let Some(path) = json {
        outcome.report.write_json(path)?;
    }
    if let Some(path) = html {
        molotov::report::write_html(&outcome.report, path)?;
    }
    if let Some(path) = junit {
        molotov::junit::write(&outcome.report, outcome.failed, path)?;
    }
    Ok(())
}

/// Merges shards' raw results, and reports as `run` does.
fn merge(args: &molotov::cli::MergeArgs) -> ExitCode {
    match molotov::merge::merge(args) {
        Ok(outcome) => {
            if !args.quiet {
                print!("{}", terminal_safe(&outcome.report.summary()));
                if let Some(k6) = &outcome.report.k6 {
                    print!("{}", terminal_safe(&k6_summary::summary(k6)));
                }
            }
            if let Err(error) = write_results(&outcome, [&args.json, &args.html, &args.junit]) {
                return cannot_run(&error);
            }
            exit_code(&outcome)
        }
        Err(error) => cannot_run(&error),
    }
}

/// 2 when a threshold could not be judged, 3 when no request got a response,
/// 130 when Ctrl+C cut the run short, 1 when the run failed, else 0.
fn exit_code(outcome: &molotov::runner::Outcome) -> ExitCode {
    let report = &outcome.report;
    if report.has_unjudged_threshold() {
        eprintln!("error: a threshold names what never appeared in the run (see the summary)");
        ExitCode::from(EXIT_CANNOT_RUN)
    } else if report.reached_no_server() {
        eprintln!("error: no request of the run reached a server (see the summary)");
        ExitCode::from(EXIT_NO_SERVER_REACHED)
    } else if report.stopped_by == StopReason::Interrupted {
        ExitCode::from(molotov::interrupts::EXIT_INTERRUPTED)
    } else if outcome.failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

fn cannot_run(error: &anyhow::Error) -> ExitCode {
    // Guest text can reach it (a failed global-setup, a trap in describe).
    eprintln!("error: {}", terminal_safe(&format!("{error:#}")));
    let interrupted = error
        .chain()
        .any(|e| e.is::<molotov::interrupts::Interrupted>());
    ExitCode::from(if interrupted {
        molotov::interrupts::EXIT_INTERRUPTED
    } else {
        EXIT_CANNOT_RUN
    })
}
