//! `--config FILE`: Molotov's `molotov.json`, whose test options become
//! defaults of the `run` flags, so that flags on the command line override them.
//!
//! ```json
//! {"molotov": {"env": {"KEY": "value"},
//!              "tests": {"smoke": {"scenario": "scenarios.wasm", "workers": 2, "exception": true}}}}
//! ```

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use anyhow::{Context, bail};
use clap::{CommandFactory, FromArgMatches, Parser};
use serde::Deserialize;
use serde_json::Value;

use crate::cli::{Cli, Command, RunFlags};

#[derive(Debug, Deserialize)]
struct File {
    molotov: Section,
}

#[derive(Debug, Deserialize)]
struct Section {
    #[serde(default)]
    env: BTreeMap<String, Value>,
    #[serde(default)]
    tests: BTreeMap<String, BTreeMap<String, Value>>,
}

/// The option naming the component, as in Molotov (`component` is accepted too).
const SCENARIO_KEYS: [&str; 2] = ["scenario", "component"];

/// Applies `--config` to a parsed `run`: parses `argv` again with the named
/// test's options as defaults. Any other command is returned as it is.
pub fn apply(cli: Cli, argv: Vec<OsString>) -> anyhow::Result<Cli> {
    match &cli.command {
        Command::Run(args) if args.config.is_some() => reparse(argv, None),
        _ => Ok(cli),
    }
}

/// Parses `run`'s `argv` again with a script's options (long flag names, as
/// a config test's) as defaults, under `--config`'s, under the command
/// line's. `script` is the script's name and options.
pub fn with_script_options(
    argv: Vec<OsString>,
    script: (&str, &BTreeMap<String, Value>),
) -> anyhow::Result<RunFlags> {
    match reparse(argv, Some(script))?.command {
        Command::Run(args) => Ok(*args),
        _ => unreachable!("parsed as run before"),
    }
}

fn reparse(
    argv: Vec<OsString>,
    script: Option<(&str, &BTreeMap<String, Value>)>,
) -> anyhow::Result<Cli> {
    let mut command = Cli::command();
    let run = command
        .find_subcommand_mut("run")
        .expect("the run subcommand exists");
    if let Some((name, options)) = script {
        for (key, value) in options {
            set_default(run, key, value, name)?;
        }
    }
    let parsed = Cli::try_parse_from(&argv).unwrap_or_else(|error| error.exit());
    let Command::Run(args) = &parsed.command else {
        return Ok(parsed);
    };
    let config = match args.config.clone() {
        Some(path) => Some(config_defaults(run, &path, &args.component)?),
        None => None,
    };
    let matches = command
        .try_get_matches_from(argv)
        .unwrap_or_else(|error| error.exit());
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let Command::Run(args) = &mut cli.command else {
        unreachable!("parsed as run before")
    };
    if let Some((path, component, env)) = config {
        resolve(args, &path, &component, &env)?;
    }
    Ok(cli)
}

/// Makes the options of `--config`'s test named `component` the defaults of
/// `run`; the file's path, the test's component and the file's env.
fn config_defaults(
    run: &mut clap::Command,
    path: &Path,
    component: &Path,
) -> anyhow::Result<(std::path::PathBuf, String, BTreeMap<String, Value>)> {
    let test = component.to_string_lossy().into_owned();
    let file = read(path)?;
    let Some(options) = file.molotov.tests.get(&test) else {
        let names: Vec<&str> = file.molotov.tests.keys().map(String::as_str).collect();
        bail!(
            "{}: no test named `{test}`; it has: {}",
            path.display(),
            names.join(", ")
        );
    };
    let mut scenario = None;
    let source = format!("{}: test `{test}`", path.display());
    for (key, value) in options {
        if SCENARIO_KEYS.contains(&key.as_str()) {
            scenario = Some(value.as_str().with_context(|| {
                format!("{}: test `{test}`: `{key}` must be a path", path.display())
            })?);
            continue;
        }
        set_default(run, key, value, &source)?;
    }
    let Some(scenario) = scenario else {
        bail!(
            "{}: test `{test}` names no `scenario` (the component to run)",
            path.display()
        );
    };
    Ok((path.to_path_buf(), scenario.to_string(), file.molotov.env))
}

/// Makes `value` the default of `run`'s flag `key` (its long name, `_` for
/// `-`); errors start with `source`.
fn set_default(
    run: &mut clap::Command,
    key: &str,
    value: &Value,
    source: &str,
) -> anyhow::Result<()> {
    // Molotov-style files name the list in the plural.
    let long = match key {
        "thresholds" => "threshold".to_string(),
        key => key.replace('_', "-"),
    };
    let Some(arg) = run
        .get_arguments()
        .find(|a| a.get_long() == Some(long.as_str()))
    else {
        bail!("{source}: unknown option `{key}`");
    };
    let id = arg.get_id().clone();
    let values = default_values(value).with_context(|| format!("{source}: option `{key}`"))?;
    // Checked here, where the file and the test can be named: clap would
    // only name the flag, as if the command line were wrong.
    let check = clap::Command::new("molotov")
        .arg(arg.clone().required(false).default_values(&values))
        .try_get_matches_from(["molotov"]);
    if let Err(error) = check {
        bail!("{source}: option `{key}`: {}", clap_reason(&error));
    }
    if !values.is_empty() {
        *run = std::mem::take(run).mut_arg(id, |arg| arg.default_values(values));
    }
    Ok(())
}

/// What clap says is wrong with a value, without its `error:` and advice.
fn clap_reason(error: &clap::Error) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

fn read(path: &Path) -> anyhow::Result<File> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --config {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a Molotov config file", path.display()))
}

/// For `run --config FILE` without a test name (which clap reports as a
/// missing component): the tests the file has, to name one of.
pub fn missing_test(error: &clap::Error, argv: &[OsString]) -> Option<anyhow::Error> {
    if error.kind() != clap::error::ErrorKind::MissingRequiredArgument {
        return None;
    }
    let args: Vec<&str> = argv.iter().filter_map(|a| a.to_str()).collect();
    let path = args
        .iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.strip_prefix("--config") {
            Some("") => args.get(i + 1).copied(),
            Some(value) => value.strip_prefix('='),
            None => None,
        })?;
    let file = match read(Path::new(path)) {
        Ok(file) => file,
        Err(error) => return Some(error),
    };
    let names: Vec<&str> = file.molotov.tests.keys().map(String::as_str).collect();
    Some(anyhow::anyhow!(
        "{path}: name the test to run (`molotov run --config {path} TEST`); it has: {}",
        names.join(", ")
    ))
}

/// A JSON option value as clap default values; `false` leaves the default.
fn default_values(value: &Value) -> anyhow::Result<Vec<String>> {
    Ok(match value {
        Value::Bool(true) => vec!["true".into()],
        Value::Bool(false) | Value::Null => Vec::new(),
        Value::Number(n) => vec![n.to_string()],
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(anyhow::anyhow!("unsupported value {other}")),
            })
            .collect::<anyhow::Result<_>>()?,
        Value::Object(_) => bail!("unsupported value {value}"),
    })
}

/// Points the run at the test's component (relative to the config file) and
/// puts the file's `env` before the command line's `--env`, which wins.
fn resolve(
    args: &mut RunFlags,
    config: &Path,
    component: &str,
    env: &BTreeMap<String, Value>,
) -> anyhow::Result<()> {
    let base = config.parent().unwrap_or(Path::new("."));
    args.component = base.join(component);
    let mut merged = Vec::with_capacity(env.len() + args.env.len());
    for (key, value) in env {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            other => bail!(
                "{}: env `{key}` must be a string, not {other}",
                config.display()
            ),
        };
        merged.push((key.clone(), value));
    }
    merged.append(&mut args.env);
    args.env = merged;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn list_and_switch_options_become_flag_defaults() {
        let dir = std::env::temp_dir().join(format!("molotov-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("molotov.json");
        std::fs::write(
            &path,
            r#"{"molotov": {"tests": {"shared-ci": {"scenario": "s.wasm", "egress_strict": true,
                "egress_allow": ["10.1.0.0/16", "192.0.2.7"], "egress_deny": ["10.1.2.0/24"]}}}}"#,
        )
        .unwrap();
        let argv: Vec<OsString> = [
            "molotov",
            "run",
            "--config",
            path.to_str().unwrap(),
            "shared-ci",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let cli = apply(Cli::parse_from(argv.clone()), argv.clone()).unwrap();
        let Command::Run(flags) = cli.command else {
            panic!("not a run")
        };
        assert!(flags.egress_strict);
        let ranges = |cidrs: &[molotov_http::Cidr]| -> Vec<String> {
            cidrs.iter().map(|c| c.0.to_string()).collect()
        };
        assert_eq!(ranges(&flags.egress_allow), ["10.1.0.0/16", "192.0.2.7/32"]);
        assert_eq!(ranges(&flags.egress_deny), ["10.1.2.0/24"]);

        let without_test = &argv[..argv.len() - 1];
        let error = Cli::try_parse_from(without_test).unwrap_err();
        let listed = missing_test(&error, without_test).unwrap().to_string();
        assert!(
            listed.contains("name the test to run") && listed.ends_with("it has: shared-ci"),
            "{listed}"
        );
    }
}
