//! JavaScript and Python guests: the interpreter and the scenarios are
//! snapshotted into one component by componentize-js or componentize-py.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use super::language::Language;
use super::project::Project;
use super::protobuf_runtime;
use super::tool::{Chatter, Tool};
use crate::sdk;

/// The Python SDK's packages (`molotov`, and the `aiohttp` names scenarios
/// use), as this binary carries them: the SDK a guest is built with always
/// matches the host that runs it.
fn python_sdk() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    sdk::files(Language::Python)
        .iter()
        .filter(|(name, _)| name.ends_with(".py"))
        .copied()
}

/// Whether a file of the installed JS SDK is one a build takes in: its
/// modules (the k6 layer's too), its build script, and the lock file that
/// pins the tools that script runs.
fn is_js_sdk_file(relative: &Path) -> bool {
    let name = relative.to_string_lossy();
    name.ends_with(".js") || name.ends_with(".mjs") || name == "package-lock.json"
}

/// The JS SDK's build script, installed with the SDK in the project's
/// `node_modules` (it brings componentize-js and the bundler).
const JS_BUILD_SCRIPT: &str = "node_modules/molotov-sdk/build.mjs";

/// The SDK sources a build of `project` takes in, beside the project's own:
/// compiled into this binary (Python), or the project's installed JS SDK.
pub fn sdk_sources(project: &Project) -> Vec<Vec<u8>> {
    match project.language {
        Language::Python => python_sdk().map(|(_, bytes)| bytes.to_vec()).collect(),
        Language::JavaScript => js_build_script(project)
            .ok()
            .and_then(|script| script.parent().map(Path::to_path_buf))
            .into_iter()
            .flat_map(|sdk| {
                walkdir::WalkDir::new(&sdk)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(|e| e.file_name() != "node_modules")
                    .filter_map(Result::ok)
                    .filter(move |e| {
                        e.file_type().is_file()
                            && e.path().strip_prefix(&sdk).is_ok_and(is_js_sdk_file)
                    })
                    .filter_map(|e| std::fs::read(e.path()).ok())
                    .collect::<Vec<_>>()
            })
            .collect(),
        Language::Rust | Language::Go => Vec::new(),
    }
}

fn js_build_script(project: &Project) -> anyhow::Result<PathBuf> {
    project
        .dir
        .canonicalize()?
        .ancestors()
        .map(|dir| dir.join(JS_BUILD_SCRIPT))
        .find(|script| script.is_file())
        .with_context(|| {
            format!(
                "{}: the JavaScript SDK is not installed: add molotov-sdk to package.json and run `npm install` (see guest-sdk-js/README.md)",
                project.dir.display()
            )
        })
}

/// Builds a JavaScript project; the SDK's build script keeps the engine it
/// prepares for every script in `engine_cache`.
pub fn javascript(
    project: &Project,
    wit_dir: &Path,
    output: &Path,
    engine_cache: Option<&Path>,
    chatter: Chatter,
) -> anyhow::Result<()> {
    let entry = entry(project)?;
    let script = js_build_script(project)?;
    let tool = Tool {
        what: "the JavaScript build (node)",
        hint: "is Node.js 20 or newer installed?",
    };
    // componentize-js fails to find its own snapshot's source when node
    // runs in `/` or `/tmp` (its temporary files' directory): node runs in
    // the project, and is given absolute paths.
    tool.run(
        Command::new("node")
            .current_dir(&project.dir)
            .arg(std::path::absolute(script)?)
            .arg(std::path::absolute(entry)?)
            .arg(std::path::absolute(wit_dir)?)
            .arg(std::path::absolute(output)?)
            .args(engine_cache.map(std::path::absolute).transpose()?),
        chatter,
        false,
    )
    .map(drop)
}

pub fn python(
    project: &Project,
    work: &Path,
    output: &Path,
    chatter: Chatter,
) -> anyhow::Result<()> {
    let entry = entry(project)?;
    let module = entry
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|name| name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .with_context(|| format!("{}: not a Python module name", entry.display()))?;
    let sdk = work.join("sdk");
    for (name, source) in python_sdk() {
        let path = sdk.join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(&sdk))?;
        std::fs::write(path, source)?;
    }
    // componentize-py looks for the exports in one module: this one imports
    // the scenarios (which register themselves) and the SDK's exports.
    std::fs::write(
        work.join("molotov_entry.py"),
        format!(
            "import {module}  # noqa: F401\nfrom molotov._component import Driver, Scenarios  # noqa: F401\n"
        ),
    )?;
    let deps = work.join("deps");
    std::fs::create_dir_all(&deps)?;
    let project_dir = entry.parent().unwrap_or(Path::new("."));
    if protobuf_runtime::imported_under(project_dir) {
        protobuf_runtime::copy_into(&deps, &entry)?;
    }
    let tool = Tool {
        what: "componentize-py",
        hint: "install it with `pip install componentize-py==0.25.1`",
    };
    tool.run(
        Command::new("componentize-py")
            .arg("-d")
            .arg(work.join("wit"))
            .args(["-w", "shared-scenario", "componentize", "molotov_entry"])
            .arg("-p")
            .arg(work)
            .arg("-p")
            .arg(&sdk)
            .arg("-p")
            .arg(&deps)
            .arg("-p")
            .arg(project_dir)
            .arg("-o")
            .arg(output),
        chatter,
        false,
    )
    .map(drop)
}

fn entry(project: &Project) -> anyhow::Result<PathBuf> {
    let entry = project.entry.clone().context("no entry file")?;
    if !entry.is_file() {
        bail!("{}: no such entry file", entry.display());
    }
    Ok(entry.canonicalize()?)
}
