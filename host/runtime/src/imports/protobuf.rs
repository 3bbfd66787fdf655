//! `molotov:scenario/protobuf`: schemas the host compiles for a scenario's
//! gRPC calls with JSON values, held in the worker's resource table and
//! shared by content across the run's instances.

use std::sync::Arc;

use molotov_protobuf::Schema;
use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::GuestSchema;
use crate::bindings::molotov::scenario::protobuf::{self, MethodInfo, SourceFile};
use crate::state::WorkerState;

/// Schemas one instance may hold at once (the contract documents it).
pub const MAX_SCHEMAS: u32 = 16;

type Outcome<T> = Result<std::result::Result<T, String>>;

impl protobuf::Host for WorkerState {}

impl WorkerState {
    /// Hands `built` to the guest, unless it already holds [`MAX_SCHEMAS`].
    fn hold(
        &mut self,
        built: std::result::Result<Arc<Schema>, String>,
    ) -> Outcome<Resource<GuestSchema>> {
        if self.schemas_held >= MAX_SCHEMAS {
            return Ok(Err(format!(
                "too many schemas: an instance holds at most {MAX_SCHEMAS} (drop one, or load the files once)"
            )));
        }
        let schema = match built {
            Ok(schema) => schema,
            Err(error) => return Ok(Err(error)),
        };
        self.schemas_held += 1;
        Ok(Ok(self.table.push(schema)?))
    }
}

impl protobuf::HostSchema for WorkerState {
    fn compile(
        &mut self,
        sources: Vec<SourceFile>,
        files: Vec<String>,
    ) -> Outcome<Resource<GuestSchema>> {
        let size: usize = sources.iter().map(|s| s.path.len() + s.text.len()).sum();
        let limit = self.run.max_body_bytes;
        if size > limit {
            return Ok(Err(format!(
                "the .proto sources are {size} bytes, over the {limit} bytes of --max-body"
            )));
        }
        let sources: Vec<(String, String)> =
            sources.into_iter().map(|s| (s.path, s.text)).collect();
        let built = self.run.schemas.compile(&sources, &files);
        self.hold(built)
    }

    fn from_descriptor_set(&mut self, set: Vec<u8>) -> Outcome<Resource<GuestSchema>> {
        let limit = self.run.max_body_bytes;
        if set.len() > limit {
            return Ok(Err(format!(
                "the descriptor set is {} bytes, over the {limit} bytes of --max-body",
                set.len()
            )));
        }
        let built = self.run.schemas.from_descriptor_set(&set);
        self.hold(built)
    }

    fn methods(&mut self, schema: Resource<GuestSchema>) -> Result<Vec<MethodInfo>> {
        let methods = self.table.get(&schema)?.methods();
        Ok(methods
            .into_iter()
            .map(|m| MethodInfo {
                path: m.path,
                input: m.input,
                output: m.output,
                client_streaming: m.client_streaming,
                server_streaming: m.server_streaming,
            })
            .collect())
    }

    fn encode(
        &mut self,
        schema: Resource<GuestSchema>,
        message_type: String,
        json: String,
    ) -> Outcome<Vec<u8>> {
        Ok(self.table.get(&schema)?.encode(&message_type, &json))
    }

    fn decode(
        &mut self,
        schema: Resource<GuestSchema>,
        message_type: String,
        bytes: Vec<u8>,
    ) -> Outcome<String> {
        Ok(self.table.get(&schema)?.decode(&message_type, &bytes))
    }

    fn drop(&mut self, schema: Resource<GuestSchema>) -> Result<()> {
        self.table.delete(schema)?;
        self.schemas_held -= 1;
        Ok(())
    }
}
