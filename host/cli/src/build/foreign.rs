//! Scripts written for another tool that cannot run here (a Molotov file
//! that brings its own HTTP client): told in one line before a toolchain
//! fails on them with a traceback. (k6 scripts run: the JS SDK's k6 layer.)

use std::path::Path;

use anyhow::bail;

use super::language::Language;

/// Python HTTP clients: they cannot reach the network from the sandbox, and
/// a scenario does not need them (the session it is given sends requests).
/// (aiohttp is not one of them: the SDK carries the names scenarios use of
/// it, and its client says in one line that it cannot run.)
const PYTHON_CLIENTS: [&str; 3] = ["requests", "httpx", "urllib3"];

/// Fails with what to do when a project's entry, in `language`, is written
/// for another tool.
pub fn refuse(language: Language, entry: Option<&Path>) -> anyhow::Result<()> {
    let Some(entry) = entry else {
        return Ok(());
    };
    let Ok(source) = std::fs::read_to_string(entry) else {
        return Ok(());
    };
    let name = entry.display();
    match language {
        Language::Python => {
            if let Some(module) = imported(&source, &PYTHON_CLIENTS, python_import) {
                bail!(
                    "{name} imports {module}, which cannot run in molotov's sandbox: \
                     send requests with the session each scenario is given (`await session.get(url)`) and remove the import"
                );
            }
        }
        Language::Rust | Language::Go | Language::JavaScript => {}
    }
    Ok(())
}

/// The first module of `packages` (or below one) that a line of `source` imports.
fn imported<'a>(
    source: &'a str,
    packages: &[&str],
    import_of: fn(&str) -> Option<&str>,
) -> Option<&'a str> {
    source
        .lines()
        .filter_map(|line| import_of(line.trim()))
        .find(|module| {
            packages.iter().any(|package| {
                module
                    .strip_prefix(package)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '.']))
            })
        })
}

/// The module of `import m`, `import m as n` or `from m import …`.
fn python_import(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("import ")
        .or_else(|| line.strip_prefix("from "))?;
    rest.split([' ', ',', ';']).next().filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_clients_are_recognised() {
        let molotov = "import asyncio\nimport httpx\nfrom molotov import scenario\n";
        assert_eq!(
            imported(molotov, &PYTHON_CLIENTS, python_import),
            Some("httpx")
        );
        // The SDK carries aiohttp's names: a Molotov file may import it.
        let aiohttp = "import aiohttp\nfrom molotov import scenario\n";
        assert_eq!(imported(aiohttp, &PYTHON_CLIENTS, python_import), None);
        let from = "from requests.adapters import HTTPAdapter";
        assert_eq!(
            imported(from, &PYTHON_CLIENTS, python_import),
            Some("requests.adapters")
        );
        let fine =
            "# import aiohttp\nimport requests_toolbelt_like\nfrom molotov import scenario\n";
        assert_eq!(imported(fine, &PYTHON_CLIENTS, python_import), None);
    }
}
