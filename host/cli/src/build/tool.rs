//! Running a toolchain step (cargo, go, node, componentize-py): its output
//! shown or kept back, its failure told in one line, and Ctrl+C stopping it
//! (and everything it started) at once.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::interrupts::{self, Interrupted};

/// How a build shows its toolchain's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chatter {
    /// On stderr as it comes (`molotov build`, `molotov run -v`).
    Shown,
    /// Kept back; a failure is told in one line (`molotov run` building first).
    Hidden,
}

/// How long a stopped tool has to exit before it is killed.
const GRACE: Duration = Duration::from_secs(2);

/// A toolchain step: what it is, and what to do when it cannot start.
pub struct Tool<'a> {
    pub what: &'a str,
    pub hint: &'a str,
}

impl Tool<'_> {
    /// Runs `command` and returns its standard output. Its stderr (and, but
    /// for captured output, its stdout) goes to our stderr when shown: `molotov
    /// run x.py` builds first, and its standard output is the run's.
    pub fn run(
        &self,
        command: &mut Command,
        chatter: Chatter,
        keep_stdout: bool,
    ) -> anyhow::Result<Vec<u8>> {
        let (stdout, stderr) = match (chatter, keep_stdout) {
            (Chatter::Shown, true) => (Stdio::piped(), Stdio::inherit()),
            (Chatter::Shown, false) => (std::io::stderr().into(), Stdio::inherit()),
            (Chatter::Hidden, _) => (Stdio::piped(), Stdio::piped()),
        };
        // A process group of its own: Ctrl+C stops the tool and its children
        // through us, so that none outlives molotov.
        let mut child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot run {}: {}", self.what, self.hint))?;
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = wait_or_stop(&mut child)?;
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        if !status.success() {
            let told = String::from_utf8_lossy(&stderr);
            match first_error(&told) {
                Some(line) => bail!(
                    "{} failed: {line} (`molotov run -v` or `molotov build` shows its output)",
                    self.what
                ),
                None => bail!("{} failed ({status})", self.what),
            }
        }
        Ok(stdout)
    }
}

/// Reads a pipe to its end on a thread of its own, so that neither pipe fills.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Waits for the tool, or stops its process group on Ctrl+C.
fn wait_or_stop(child: &mut Child) -> anyhow::Result<ExitStatus> {
    let group = -(child.id() as libc::pid_t);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if interrupts::count() > 0 {
            // SAFETY: signals the tool's own process group, made at spawn.
            unsafe { libc::kill(group, libc::SIGTERM) };
            let deadline = Instant::now() + GRACE;
            while child.try_wait()?.is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            // SAFETY: as above; whatever is left of the group goes now.
            unsafe { libc::kill(group, libc::SIGKILL) };
            let _ = child.wait();
            return Err(Interrupted.into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The line of a tool's output that names its failure: cargo's first
/// `error…`, else the innermost Python exception (componentize-py wraps it in
/// others), else Node's first `…Error: …`, else the last line.
pub fn first_error(output: &str) -> Option<String> {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let python_exception = |line: &&&str| {
        line.split_once(": ").is_some_and(|(name, message)| {
            (name.ends_with("Error") || name.ends_with("Exception"))
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '.' || c == '_')
                && !message.starts_with("Traceback")
        })
    };
    let line = lines
        .iter()
        .find(|l| l.to_ascii_lowercase().starts_with("error"))
        .or_else(|| lines.iter().rfind(python_exception))
        .or_else(|| lines.iter().find(|l| l.contains("Error: ")))
        .or_else(|| lines.last())?;
    Some(line.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::first_error;

    #[test]
    fn a_failure_is_told_by_its_error_line() {
        let traceback = "Traceback (most recent call last):\n  File \"x.py\", line 1\nAssertionError: Traceback (most recent call last):\nModuleNotFoundError: No module named 'requests'\n\nCaused by:\n  0: x\n";
        assert_eq!(
            first_error(traceback).unwrap(),
            "ModuleNotFoundError: No module named 'requests'"
        );
        let cargo = "   Compiling x v0.1.0\nerror[E0425]: cannot find value `y`\n --> src/lib.rs:3:5\nerror: could not compile `x`\n";
        assert_eq!(
            first_error(cargo).unwrap(),
            "error[E0425]: cannot find value `y`"
        );
        let node = "file:///p/node_modules/x.mjs:9\n[UNRESOLVED_IMPORT] Error: Could not resolve 'k6/http' in scenarios.js\n    at aggregateBindingErrors (x.mjs:1:1)\n";
        assert_eq!(
            first_error(node).unwrap(),
            "[UNRESOLVED_IMPORT] Error: Could not resolve 'k6/http' in scenarios.js"
        );
        assert_eq!(first_error("\n \n"), None);
    }
}
