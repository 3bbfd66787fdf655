//! A user's own project, outside this repository: `molotov new` in every
//! language, `molotov run` building from source (cached by the sources'
//! own content, interruptible, saying what it does), and scripts written
//! for another tool told apart in one line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::{
    Server, count, molotov, run, run_against, run_interrupted, scratch, scratch_dir, workspace,
};

/// A new project in each language builds and passes its smoke test with the
/// source tree out of reach: an empty file system is mounted over it (`unshare
/// -m`), `molotov` is a copy outside it, and no project file names it.
#[test]
fn new_projects_build_and_run_with_the_source_tree_out_of_reach() {
    let home = scratch_dir("molotov-e2e-projects");
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::fs::copy(env!("CARGO_BIN_EXE_molotov"), bin.join("molotov")).expect("copy molotov");
    for lang in ["rust", "go", "js", "python"] {
        let dir = home.join(format!("shop-{lang}"));
        let setup = if lang == "js" {
            // The registry's packages, from npm's cache (the SDK's install filled it).
            "npm install --no-audit --no-fund --offline"
        } else {
            "true"
        };
        let script = format!(
            "set -eu
             mount -t tmpfs molotov-hidden \"$REPOSITORY\"
             test -z \"$(ls -A \"$REPOSITORY\")\"
             cd \"$HOME_DIR\"
             molotov new --lang {lang} shop-{lang}
             cd shop-{lang}
             {setup}
             molotov run --config molotov.json smoke --json smoke.json
             molotov run --config molotov.json small -w 2 -r 3 -d 60 --json small.json"
        );
        let out = Command::new("unshare")
            .args(["-m", "bash", "-c", &script])
            .env("REPOSITORY", workspace())
            .env("HOME_DIR", &home)
            .env("PATH", path_with(&bin))
            .env("MOLOTOV_CACHE_DIR", home.join("cache"))
            // Kept between test runs: a Rust project compiles its dependencies once.
            .env(
                "CARGO_TARGET_DIR",
                std::env::temp_dir().join("molotov-e2e-projects-target"),
            )
            .current_dir(&home)
            .output()
            .expect("unshare runs (util-linux)");
        let printed = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{lang} (run as root?):\n{printed}");
        assert!(
            printed.contains(&format!("cd shop-{lang} && ")),
            "{lang}: new says how to start:\n{printed}"
        );

        let smoke = results(&dir.join("smoke.json"));
        for scenario in ["read", "write"] {
            assert_eq!(
                count(&smoke["scenarios"]["by_name"][scenario]["ok"]),
                1,
                "{lang}: {smoke}"
            );
        }
        let small = results(&dir.join("small.json"));
        assert_eq!(count(&small["workers"]), 2, "{lang}: -w overrides the file");
        assert_eq!(count(&small["scenarios"]["ok"]), 6, "{lang}: {small}");
        assert_eq!(small["component"], dir.display().to_string(), "{lang}");
        if lang == "rust" {
            // Its scenarios are async: its workers share instances.
            assert_eq!(count(&small["workers_per_instance"]), 128);
        }
        if lang != "python" {
            assert!(
                dir.join("molotov-sdk").is_dir(),
                "{lang}: the SDK is vendored"
            );
        }
        let repository = workspace().display().to_string();
        for file in project_files(&dir) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            assert!(
                !text.contains(&repository),
                "{} refers to the source tree",
                file.display()
            );
        }
    }

    // `molotov vendor` refreshes the copy; a directory it did not write stays.
    let go = home.join("shop-go");
    std::fs::remove_file(go.join("molotov-sdk/molotov.go")).expect("an SDK file");
    let vendored = molotov().arg("vendor").arg(&go).output().expect("vendor");
    assert!(vendored.status.success(), "{vendored:?}");
    assert!(go.join("molotov-sdk/molotov.go").is_file());
    let stranger = home.join("stranger");
    std::fs::create_dir_all(stranger.join("molotov-sdk")).expect("dir");
    let refused = molotov()
        .args(["vendor", "--lang", "rust"])
        .arg(&stranger)
        .output()
        .expect("vendor");
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("is not a Rust SDK that molotov vendored")
    );
    let _ = std::fs::remove_dir_all(&home);
}

/// A project's files a user edits (not installed packages or build outputs).
fn project_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "node_modules" || name == "target" {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if !name.to_string_lossy().ends_with(".json") || name == "package.json" {
                files.push(path);
            }
        }
    }
    files
}

fn path_with(bin: &Path) -> std::ffi::OsString {
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("a PATH")
}

fn results(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON results")
}

const PING: &str = "from molotov import scenario\n\n\n@scenario(weight=100)\nasync def ping(session):\n    async with session.get(\"/\") as resp:\n        assert resp.status == 200\n";

/// A Python scenario file of its own, in a directory of its own.
fn python_file(name: &str, source: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("loadtest.py");
    std::fs::write(&file, source).expect("write");
    file
}

/// `molotov run loadtest.py` builds once: not again when the previous run's
/// results land beside it or when the file is named by another path, but
/// after an edit. It says so on stderr, and `-q` says nothing.
#[test]
fn a_run_from_source_is_cached_by_the_sources_own_content() {
    let server = Server::start();
    let file = python_file("cached", PING);
    let cache = scratch("cached-cache");
    let cache = cache.to_str().expect("utf-8");
    let first = run_against(&server, &file, &["--cache-dir", cache, "-r", "1"]);
    assert_eq!(first.code, Some(0), "stderr: {}", first.stderr);
    assert!(
        first
            .stderr
            .contains(&format!("building {} (first run only", file.display())),
        "{}",
        first.stderr
    );
    std::fs::write(
        file.with_file_name("results.json"),
        first.json().to_string(),
    )
    .expect("write");

    let dir = file.parent().expect("a directory");
    let by_another_name = dir
        .join("..")
        .join(dir.file_name().expect("a name"))
        .join("loadtest.py");
    let second = run_against(
        &server,
        &by_another_name,
        &["--cache-dir", cache, "-r", "1"],
    );
    assert_eq!(second.code, Some(0), "stderr: {}", second.stderr);
    assert!(!second.stderr.contains("building"), "{}", second.stderr);
    assert_eq!(
        second.json()["component"],
        by_another_name.display().to_string()
    );

    std::fs::write(&file, format!("{PING}\n# edited\n")).expect("edit");
    let edited = run_against(&server, &file, &["--cache-dir", cache, "-r", "1", "-q"]);
    assert_eq!(edited.code, Some(0), "stderr: {}", edited.stderr);
    assert_eq!(edited.stderr, "", "-q prints nothing, the build included");
    assert_eq!(
        std::fs::read_dir(Path::new(cache).join("built"))
            .expect("built")
            .count(),
        2
    );
}

/// Ctrl+C during a build stops the toolchain with it, and during a compile
/// stops the compile: exit 130 at once, nothing half-built left behind.
#[test]
fn ctrl_c_stops_a_build_and_a_compile() {
    let file = python_file("interrupted-build", PING);
    let cache = scratch("interrupted-build-cache");
    let cache_arg = cache.to_str().expect("utf-8");
    let build = run_interrupted(
        &file,
        &["--cache-dir", cache_arg, "-r", "1"],
        Duration::from_secs(3),
    );
    assert_eq!(build.code, Some(130), "stderr: {}", build.stderr);
    assert!(
        build.stderr.contains("interrupted before the run began"),
        "{}",
        build.stderr
    );
    let built: Vec<_> = std::fs::read_dir(cache.join("built"))
        .expect("built")
        .collect();
    assert!(built.is_empty(), "nothing half-built is kept: {built:?}");
    let left = Command::new("pgrep")
        .args(["-f", cache_arg])
        .output()
        .expect("pgrep");
    assert!(
        left.stdout.is_empty(),
        "the toolchain outlived molotov: {left:?}"
    );

    let component = crate::support::example("js", "hello");
    let fresh = scratch("interrupted-compile-cache");
    let fresh = fresh.to_str().expect("utf-8");
    let compile = run_interrupted(
        &component,
        &["--cache-dir", fresh, "-r", "1"],
        Duration::from_secs(2),
    );
    assert_eq!(compile.code, Some(130), "stderr: {}", compile.stderr);
    assert!(compile.stderr.contains("compiling"), "{}", compile.stderr);
    assert!(
        compile.stderr.contains("interrupted before the run began"),
        "{}",
        compile.stderr
    );
}

/// A Molotov file bringing its own HTTP client is told in one line.
#[test]
fn scripts_for_other_tools_are_told_in_one_line() {
    let requests = python_file("requests", &format!("import requests\n{PING}"));
    let run_requests = run(&requests, &["-r", "1"]);
    run_requests.assert_cannot_run("imports requests, which cannot run in molotov's sandbox");
    assert_eq!(
        run_requests.stderr.lines().count(),
        1,
        "{}",
        run_requests.stderr
    );

    let broken = python_file("broken", &format!("{PING}\nimport no_such_module_here\n"));
    let run_broken = run(&broken, &["-r", "1"]);
    run_broken.assert_cannot_run("No module named 'no_such_module_here'");
    assert!(
        !run_broken.stderr.contains("Traceback"),
        "{}",
        run_broken.stderr
    );
}
