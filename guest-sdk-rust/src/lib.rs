//! The Rust SDK for molotov scenarios: plain Rust functions become a load-test component.
//!
//! ```ignore
//! #[molotov::scenarios]
//! mod load {
//!     use molotov::prelude::*;
//!
//!     #[scenario(weight = 90)]
//!     fn read(s: &Session) -> Result {
//!         let res = s.get("/")?;
//!         ensure!(res.status() == 200, "status {}", res.status());
//!         Ok(())
//!     }
//! }
//! ```
//!
//! A scenario may be an `async fn` taking an [`AsyncSession`]: its requests
//! are awaited, and one instance then runs up to 128 workers (see the README).
//!
//! Build with `cargo build --target wasm32-wasip2 --release`: the `.wasm` in
//! `target/wasm32-wasip2/release/` is the component that `molotov run` takes.

mod async_session;
mod driver;
mod error;
mod grpc;
mod host;
mod session;
mod stream;
mod websocket;

#[doc(hidden)]
pub mod __rt;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "shared-scenario",
        pub_export_macro: true,
        export_macro_name: "__export_component",
        default_bindings_module: "::molotov::bindings",
        generate_all,
        // Requests are passed by reference: sending one copies nothing in the guest.
        ownership: Borrowing { duplicate_if_necessary: true },
    });
}

pub use async_session::AsyncSession;
pub use bindings::exports::molotov::scenario::scenarios::Event;
pub use bindings::molotov::scenario::context::RunArgs;
pub use bindings::molotov::scenario::http::SessionOptions;
pub use error::{Error, Result};
pub use grpc::{Grpc, GrpcReply, status_name};
pub use host::{
    env, gauge, get_var, incr, log, print, set_var, shard, sleep, sleep_async, step, timing,
    worker_id,
};
pub use molotov_macros::scenarios;
pub use session::{Request, Response, Session};
pub use stream::{AsyncStream, SseEvent, Stream};
pub use websocket::{AsyncWebSocket, CloseFrame, Connect, Message, WebSocket};

/// Everything a scenario module usually needs.
pub mod prelude {
    pub use crate::{
        AsyncSession, AsyncStream, AsyncWebSocket, Connect, Error, Event, Grpc, GrpcReply, Message,
        Request, Response, Result, RunArgs, Session, SessionOptions, Stream, WebSocket, bail,
        ensure,
    };
}
