//! Go guests: stock Go builds a wasip1 reactor module; the WIT metadata is
//! embedded and the module adapted to a component with `wit-component`.

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

use super::language::WIT;
use super::project::Project;
use super::tool::{Chatter, Tool};

pub fn build(
    project: &Project,
    work: &Path,
    output: &Path,
    chatter: Chatter,
) -> anyhow::Result<()> {
    let module_path = work.join("module.wasm");
    let tool = Tool {
        what: "go build",
        hint: "is Go 1.25 or newer installed?",
    };
    tool.run(
        Command::new("go")
            .current_dir(&project.dir)
            .env("GOOS", "wasip1")
            .env("GOARCH", "wasm")
            // The WIT runtime package links to runtime.sbrk, which Go 1.23+
            // refuses by default.
            .args([
                "build",
                "-buildmode=c-shared",
                "-ldflags=-checklinkname=0",
                "-o",
            ])
            .arg(&module_path)
            .arg("."),
        chatter,
        false,
    )?;
    let mut module = std::fs::read(&module_path).context("go build wrote no module")?;
    let component = componentize(&mut module)?;
    std::fs::write(output, component).with_context(|| format!("cannot write {}", output.display()))
}

/// Embeds the world's metadata in a core module and adapts its WASI preview 1
/// imports, giving a component.
fn componentize(module: &mut Vec<u8>) -> anyhow::Result<Vec<u8>> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("scenario.wit", WIT)?;
    let world = resolve.select_world(&[package], Some("shared-scenario"))?;
    wit_component::embed_component_metadata(module, &resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default()
        .validate(true)
        .module(module)?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
        .context("cannot turn the Go module into a component")
}
