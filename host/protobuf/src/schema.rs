//! A schema: compiled `.proto` files or a descriptor set, its methods, and
//! its messages converted between JSON and their encoding.

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use std::collections::HashMap;

/// A method of a service in a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodInfo {
    /// `/package.Service/Method`.
    pub path: String,
    pub input: String,
    pub output: String,
    pub client_streaming: bool,
    pub server_streaming: bool,
}

/// Compiled files: services and messages. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Schema {
    pool: DescriptorPool,
}

impl Schema {
    /// Compiles `files`, named among `sources` (path, text), with what they
    /// import: from `sources`, or Google's well-known types.
    pub fn compile(sources: &[(String, String)], files: &[String]) -> Result<Self, String> {
        let mut compiler = protox::Compiler::with_file_resolver(resolver(sources));
        compiler.include_imports(true);
        for file in files {
            compiler.open_file(file).map_err(|e| format!("{e:?}"))?;
        }
        Ok(Self {
            pool: compiler.descriptor_pool(),
        })
    }

    /// The schema an encoded `FileDescriptorSet` describes. A file may come
    /// more than once (server reflection repeats shared imports).
    pub fn from_descriptor_set(bytes: &[u8]) -> Result<Self, String> {
        let mut set = prost_types::FileDescriptorSet::decode(bytes)
            .map_err(|e| format!("not a FileDescriptorSet: {e}"))?;
        let mut seen = std::collections::HashSet::new();
        set.file.retain(|file| seen.insert(file.name.clone()));
        let mut pool = DescriptorPool::new();
        pool.add_file_descriptor_set(set)
            .map_err(|e| format!("{e:?}"))?;
        Ok(Self { pool })
    }

    pub fn methods(&self) -> Vec<MethodInfo> {
        self.pool
            .services()
            .flat_map(|service| service.methods().collect::<Vec<_>>())
            .map(|method| MethodInfo {
                path: format!("/{}/{}", method.parent_service().full_name(), method.name()),
                input: method.input().full_name().to_owned(),
                output: method.output().full_name().to_owned(),
                client_streaming: method.is_client_streaming(),
                server_streaming: method.is_server_streaming(),
            })
            .collect()
    }

    /// The encoding of the message `message_type` whose JSON is `json`.
    pub fn encode(&self, message_type: &str, json: &str) -> Result<Vec<u8>, String> {
        let descriptor = self.message(message_type)?;
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let message = DynamicMessage::deserialize(descriptor, &mut deserializer)
            .and_then(|message| deserializer.end().map(|()| message))
            .map_err(|e| format!("{message_type}: {e}"))?;
        Ok(message.encode_to_vec())
    }

    /// The JSON of the message `message_type` encoded as `bytes`, with every
    /// field (an unset one at its default), as gRPC tools print it.
    pub fn decode(&self, message_type: &str, bytes: &[u8]) -> Result<String, String> {
        let descriptor = self.message(message_type)?;
        let message = DynamicMessage::decode(descriptor, bytes)
            .map_err(|e| format!("{message_type}: not a valid encoding: {e}"))?;
        let mut json = Vec::with_capacity(bytes.len() * 2);
        let mut serializer = serde_json::Serializer::new(&mut json);
        message
            .serialize_with_options(
                &mut serializer,
                &SerializeOptions::new().skip_default_fields(false),
            )
            .map_err(|e| format!("{message_type}: {e}"))?;
        String::from_utf8(json).map_err(|e| e.to_string())
    }

    fn message(&self, name: &str) -> Result<MessageDescriptor, String> {
        let name = name.trim_start_matches('.');
        self.pool
            .get_message_by_name(name)
            .ok_or_else(|| format!("no message type {name} in the schema"))
    }
}

/// Finds imports among `sources`, then Google's well-known types.
fn resolver(sources: &[(String, String)]) -> ChainFileResolver {
    let mut chain = ChainFileResolver::new();
    chain.add(InMemory(sources.iter().cloned().collect()));
    chain.add(GoogleFileResolver::new());
    chain
}

/// `.proto` files given as text, by the names imports use.
struct InMemory(HashMap<String, String>);

impl FileResolver for InMemory {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(text) => File::from_source(name, text),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const GREETER: &str = r#"
        syntax = "proto3";
        package helloworld;
        import "google/protobuf/timestamp.proto";
        service Greeter {
          rpc SayHello (HelloRequest) returns (HelloReply);
          rpc SayHelloStream (HelloRequest) returns (stream HelloReply);
        }
        message HelloRequest { string name = 1; int64 times = 2; }
        message HelloReply { string message = 1; google.protobuf.Timestamp at = 2; repeated string tags = 3; }
    "#;

    fn greeter() -> Schema {
        let sources = [("protos/hello.proto".to_owned(), GREETER.to_owned())];
        Schema::compile(&sources, &["protos/hello.proto".to_owned()]).unwrap()
    }

    #[test]
    fn lists_methods_with_their_messages_and_kinds() {
        let methods = greeter().methods();
        assert_eq!(methods.len(), 2);
        assert_eq!(methods[0].path, "/helloworld.Greeter/SayHello");
        assert_eq!(methods[0].input, "helloworld.HelloRequest");
        assert_eq!(methods[0].output, "helloworld.HelloReply");
        assert!(!methods[0].server_streaming && methods[1].server_streaming);
    }

    #[test]
    fn json_round_trips_through_the_encoding() {
        let schema = greeter();
        let bytes = schema
            .encode("helloworld.HelloRequest", r#"{"name":"Bert","times":"3"}"#)
            .unwrap();
        assert_eq!(bytes, b"\x0a\x04Bert\x10\x03");
        let json = schema.decode("helloworld.HelloRequest", &bytes).unwrap();
        assert_eq!(json, r#"{"name":"Bert","times":"3"}"#);
        let empty = schema.decode("helloworld.HelloReply", b"").unwrap();
        assert_eq!(empty, r#"{"message":"","tags":[]}"#);
    }

    #[test]
    fn errors_name_the_file_the_type_or_the_field() {
        let broken = [(
            "a.proto".to_owned(),
            "syntax = \"proto3\"; message {".to_owned(),
        )];
        let error = Schema::compile(&broken, &["a.proto".to_owned()]).unwrap_err();
        assert!(error.starts_with("a.proto:1:"), "{error}");
        let missing = Schema::compile(&broken, &["b.proto".to_owned()]).unwrap_err();
        assert!(missing.contains("b.proto"), "{missing}");
        let schema = greeter();
        let unknown = schema.encode("helloworld.Nope", "{}").unwrap_err();
        assert_eq!(unknown, "no message type helloworld.Nope in the schema");
        let field = schema
            .encode("helloworld.HelloRequest", r#"{"nam":"x"}"#)
            .unwrap_err();
        assert!(field.contains("nam"), "{field}");
        let garbage = schema
            .decode("helloworld.HelloRequest", b"\xff\xff")
            .unwrap_err();
        assert!(garbage.contains("not a valid encoding"), "{garbage}");
    }

    #[test]
    fn a_descriptor_set_gives_the_same_schema() {
        let sources = [("hello.proto".to_owned(), GREETER.to_owned())];
        let mut compiler = protox::Compiler::with_file_resolver(resolver(&sources));
        compiler.include_imports(true);
        compiler.open_file("hello.proto").unwrap();
        let mut set = compiler.encode_file_descriptor_set();
        // A file twice, as server reflection may answer it.
        set.extend_from_slice(&set.clone());
        let schema = Schema::from_descriptor_set(&set).unwrap();
        assert_eq!(schema.methods().len(), 2);
        assert!(Schema::from_descriptor_set(b"\xff").is_err());
    }
}
