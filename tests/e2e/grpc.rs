//! gRPC calls against a real gRPC server no one here wrote (Python's
//! `grpcio`, installed by `tests/toolchains.sh`): the classic greeter, a
//! server-streaming method, a refusing one and a slow one, described by
//! server reflection; and the built-in target's greeter. Counts equal the server's own, on instances shared by
//! many workers and on their own.

use serde_json::Value;

use crate::support::{
    PythonServer, Run, Server, count, example, ok, run, self_signed_server, workspace,
};

/// A `grpcio` greeter on 127.0.0.1, stopped when dropped. Messages are
/// `helloworld`'s, encoded by hand (one string field): no generated code.
struct Greeter {
    server: PythonServer,
    /// Where the server writes how many calls of each method it answered.
    counts: std::path::PathBuf,
}

const GREETER: &str = r#"
import json, os, sys, time
from concurrent import futures
import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, timestamp_pb2
from grpc_reflection.v1alpha import reflection

counts_file = sys.argv[1]
counts = {}

def field(data):
    # Field 1, a string shorter than 128 bytes: tag, length, bytes.
    return data[2:2 + data[1]].decode() if data else ""

def message(text):
    raw = text.encode()
    return bytes([0x0A, len(raw)]) + raw

def counted(name):
    counts[name] = counts.get(name, 0) + 1
    with open(counts_file, "w") as f:
        json.dump(counts, f)

def say_hello(request, context):
    counted("SayHello")
    return message(f"Hello, {field(request)}!")

def say_hello_stream(request, context):
    counted("SayHelloStream")
    assert dict(context.invocation_metadata()).get("x-caller") == "molotov"
    for n in range(3):
        yield message(f"Hello, {field(request)} {n}!")

def refuse(request, context):
    counted("Refuse")
    context.abort(grpc.StatusCode.UNAVAILABLE, "try again later")

def slow(request, context):
    counted("Slow")
    time.sleep(2)
    return message("late")

def flood(request, context):
    counted("Flood")
    for n in range(50):
        yield message(f"flood {n}")

def broken(request, context):
    counted("Broken")
    yield message("one")
    yield message("two")
    raise RuntimeError("broke mid-stream")

def dropped(request, context):
    counted("Dropped")
    yield message("one")
    time.sleep(0.3)
    # The server dies: its connection drops in the middle of the stream.
    os._exit(3)

raw = dict(request_deserializer=None, response_serializer=None)
handlers = {
    "SayHello": grpc.unary_unary_rpc_method_handler(say_hello, **raw),
    "SayHelloStream": grpc.unary_stream_rpc_method_handler(say_hello_stream, **raw),
    "Refuse": grpc.unary_unary_rpc_method_handler(refuse, **raw),
    "Slow": grpc.unary_unary_rpc_method_handler(slow, **raw),
    "Flood": grpc.unary_stream_rpc_method_handler(flood, **raw),
    "Broken": grpc.unary_stream_rpc_method_handler(broken, **raw),
    "Dropped": grpc.unary_stream_rpc_method_handler(dropped, **raw),
}
# Enough threads that slow calls (2 s each) never queue: a call queued past
# its deadline would never reach its handler, nor the counts.
server = grpc.server(futures.ThreadPoolExecutor(max_workers=64))
server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("helloworld.Greeter", handlers)])

# What server reflection tells: the greeter's file, which imports Google's
# Timestamp (a file the client must then ask for as well).
Field = descriptor_pb2.FieldDescriptorProto
described = descriptor_pb2.FileDescriptorProto(
    name="greeter.proto", package="helloworld", syntax="proto3",
    dependency=["google/protobuf/timestamp.proto"])
request_type = described.message_type.add(name="HelloRequest")
request_type.field.add(name="name", json_name="name", number=1, type=Field.TYPE_STRING, label=Field.LABEL_OPTIONAL)
reply_type = described.message_type.add(name="HelloReply")
reply_type.field.add(name="message", json_name="message", number=1, type=Field.TYPE_STRING, label=Field.LABEL_OPTIONAL)
reply_type.field.add(name="at", json_name="at", number=2, type=Field.TYPE_MESSAGE,
                     type_name=".google.protobuf.Timestamp", label=Field.LABEL_OPTIONAL)
service = described.service.add(name="Greeter")
for name in handlers:
    service.method.add(name=name, input_type=".helloworld.HelloRequest", output_type=".helloworld.HelloReply",
                       server_streaming=name in ("SayHelloStream", "Flood", "Broken", "Dropped"))
descriptor_pool.Default().AddSerializedFile(described.SerializeToString())
reflection.enable_server_reflection(("helloworld.Greeter", reflection.SERVICE_NAME), server)

port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
time.sleep(120)
"#;

impl Greeter {
    fn start() -> Self {
        let counts = std::env::temp_dir().join(format!(
            "molotov-grpc-{}-{:?}.json",
            std::process::id(),
            std::thread::current().id()
        ));
        let server = PythonServer::start(GREETER, &[counts.as_os_str()]);
        Self { server, counts }
    }

    /// How many calls of `method` the server answered.
    fn answered(&self, method: &str) -> u64 {
        let text = std::fs::read_to_string(&self.counts).unwrap_or_else(|_| "{}".into());
        let counts: Value = serde_json::from_str(&text).expect("the server's counts");
        counts[method].as_u64().unwrap_or(0)
    }
}

impl Drop for Greeter {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.counts);
    }
}

/// `language`'s gRPC example `name` against `url`: `workers` workers run
/// 10 runs each, `per_instance` to an instance, stopping at the first failure.
fn greeter_run(language: &str, name: &str, url: &str, workers: &str, per_instance: &str) -> Run {
    let args = ["--target", url, "-w", workers, "-r", "10", "-x"];
    let sharing = ["--workers-per-instance", per_instance];
    run(&example(language, name), &[&args[..], &sharing].concat())
}

/// Unary and server-streaming calls: every run passes, and the server
/// answered exactly the calls the run reports, shared or not.
#[test]
fn calls_are_counted_as_the_server_counted_them() {
    for per_instance in ["64", "1"] {
        let greeter = Greeter::start();
        let run = greeter_run("rust", "grpc", &greeter.server.url, "3", per_instance);
        let json = run.json();
        assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
        let (unary, streams) = (ok(json, "say_hello"), ok(json, "stream_hellos"));
        assert_eq!(unary + streams, 30, "{json}");
        assert_eq!(greeter.answered("SayHello"), unary);
        assert_eq!(greeter.answered("SayHelloStream"), streams);
        let requests = &json["requests"]["by_name"];
        let unary_name = "GRPC /helloworld.Greeter/SayHello";
        let stream_name = "GRPC /helloworld.Greeter/SayHelloStream";
        assert_eq!(count(&requests[unary_name]["count"]), unary, "{json}");
        assert_eq!(count(&requests[stream_name]["count"]), streams, "{json}");
        let counters = &json["custom"]["counters"];
        assert_eq!(count(&counters[format!("{unary_name} status OK")]), unary);
        assert_eq!(
            count(&counters[format!("{stream_name} received")]),
            3 * streams
        );
        assert_eq!(count(&counters[format!("{stream_name} sent")]), streams);
    }
}

/// A refused call fails its run with the status and message; a call past
/// its deadline is DEADLINE_EXCEEDED; each is counted under its kind.
#[test]
fn statuses_and_deadlines_are_failures_of_their_kind() {
    let greeter = Greeter::start();
    let refused = run(
        &example("rust", "grpc"),
        &["--target", &greeter.server.url, "-s", "refused", "-r", "2"],
    );
    let json = refused.json();
    assert_eq!(json["scenarios"]["failed"], 2, "{json}");
    let failures = json["scenarios"]["by_name"]["refused"]["failures"].to_string();
    assert!(
        failures.contains("gRPC status 14 (UNAVAILABLE): try again later"),
        "{failures}"
    );
    assert_eq!(
        json["requests"]["errors_by_kind"]["grpc-unavailable"], 2,
        "{json}"
    );
    assert_eq!(greeter.answered("Refuse"), 2);

    let slow = run(
        &example("rust", "grpc"),
        &["--target", &greeter.server.url, "-s", "too_slow", "-r", "1"],
    );
    let json = slow.json();
    assert_eq!(ok(json, "too_slow"), 1, "{}\n{json}", slow.stderr);
    let errors = &json["requests"]["errors_by_kind"];
    assert_eq!(errors["grpc-deadline-exceeded"], 1, "{json}");
    // The server answers after 2 s: the deadline ended the call before.
    let took = json["scenarios"]["by_name"]["too_slow"]["duration_ms"]["max"]
        .as_f64()
        .expect("duration");
    assert!((200.0..2000.0).contains(&took), "the run took {took} ms");
}

/// The built-in target answers the greeter over HTTP/2 without TLS: the
/// examples need no other server. In every language, on instances shared by
/// many workers and on their own.
#[test]
fn the_built_in_target_answers_the_greeter_in_every_language_with_calls() {
    let examples = [
        ("rust", "grpc"),
        ("go", "grpc"),
        ("js", "grpc"),
        ("js", "grpc-client"),
        ("python", "grpc"),
    ];
    for (language, example) in examples {
        for per_instance in ["64", "1"] {
            let server = Server::start();
            let run = greeter_run(language, example, &server.url, "2", per_instance);
            let json = run.json();
            assert_eq!(run.code, Some(0), "{language}: {}\n{json}", run.stderr);
            assert_eq!(json["scenarios"]["ok"], 20, "{language}: {json}");
            assert_eq!(count(&server.stats()["grpc_calls"]), 20, "{language}");
        }
    }
}

/// Over TLS, HTTP/2 comes by ALPN, the server trusted with `--ca-cert`; a
/// server that offers only HTTP/1.1 is refused in one line.
#[test]
fn calls_go_over_tls_with_http2_by_alpn() {
    for (alpn, works) in [(Vec::new(), true), (vec![b"http/1.1".to_vec()], false)] {
        let (server, ca) = self_signed_server(alpn);
        let ca = ca.to_str().expect("UTF-8 path");
        let args = [
            "--target",
            &server.url,
            "--ca-cert",
            ca,
            "-s",
            "say_hello",
            "-r",
            "3",
        ];
        let run = run(&example("rust", "grpc"), &args);
        let json = run.json();
        if works {
            assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
            assert_eq!(ok(json, "say_hello"), 3, "{json}");
        } else {
            let failures = json["scenarios"]["by_name"]["say_hello"]["failures"].to_string();
            assert!(failures.contains("did not offer HTTP/2"), "{failures}");
        }
    }
}

/// An answer past `--grpc-max-messages`, a server failing mid-stream, and
/// more calls at once than `--max-open`: each fails its call with a kind of
/// its own, and the run goes on.
#[test]
fn hostile_and_failing_answers_are_errors_of_their_kind() {
    let greeter = Greeter::start();
    let script = workspace().join("tests/guests/js/grpc_calls.js");
    let url = greeter.server.url.as_str();
    for (scenario, flags, kind, count_of_kind) in [
        (
            "flood",
            ["--grpc-max-messages", "10"],
            "too-many-messages",
            1,
        ),
        ("broken", ["--max-open", "16"], "grpc-unknown", 1),
        ("at_once", ["--max-open", "2"], "too-many-open", 2),
    ] {
        let args = ["--target", url, "-s", scenario, "-r", "1"];
        let run = run(&script, &[&args[..], &flags].concat());
        let json = run.json();
        assert_eq!(
            json["scenarios"]["failed"], 1,
            "{scenario}: {}\n{json}",
            run.stderr
        );
        let errors = &json["requests"]["errors_by_kind"];
        assert_eq!(errors[kind], count_of_kind, "{scenario}: {json}");
    }
    assert_eq!(greeter.answered("Flood"), 1);
    assert_eq!(greeter.answered("Broken"), 1);
}

/// A server that dies in the middle of a stream: the call fails as a broken
/// connection (`protocol`), and the run ends with its results written.
#[test]
fn a_server_gone_mid_stream_fails_the_call() {
    let greeter = Greeter::start();
    let script = workspace().join("tests/guests/js/grpc_calls.js");
    let args = ["--target", &greeter.server.url, "-s", "dropped", "-r", "1"];
    let run = run(&script, &args);
    let json = run.json();
    assert_eq!(json["scenarios"]["failed"], 1, "{}\n{json}", run.stderr);
    assert_eq!(json["requests"]["errors_by_kind"]["protocol"], 1, "{json}");
    assert_eq!(greeter.answered("Dropped"), 1);
}

/// The egress policy judges a call's address as any connection's: denied,
/// the call fails (`egress-denied`) and the server never sees it.
#[test]
fn the_egress_policy_refuses_a_denied_server() {
    let greeter = Greeter::start();
    let args = [
        "--target",
        &greeter.server.url,
        "-s",
        "say_hello",
        "-r",
        "2",
    ];
    let run = run(
        &example("rust", "grpc"),
        &[&args[..], &["--egress-deny", "127.0.0.0/8"]].concat(),
    );
    let json = run.json();
    assert_eq!(json["scenarios"]["failed"], 2, "{}\n{json}", run.stderr);
    assert_eq!(
        json["requests"]["errors_by_kind"]["egress-denied"], 2,
        "{json}"
    );
    assert_eq!(greeter.answered("SayHello"), 0);
}

/// The k6-shaped client (`molotov/grpc`): methods from a bundled `.proto`
/// file or from server reflection, calls with plain objects that the host
/// encodes and decodes, statuses as k6 gives them, and a script's mistakes
/// as one line each.
#[test]
fn the_k6_shaped_client_calls_with_objects_described_by_protos_or_reflection() {
    let greeter = Greeter::start();
    let script = workspace().join("tests/guests/js/grpc_client.js");
    let url = greeter.server.url.as_str();
    for scenario in [
        "from_proto",
        "from_protoset",
        "by_reflection",
        "streamed",
        "refused_and_late",
    ] {
        let run = run(
            &script,
            &["--target", url, "-s", scenario, "-w", "2", "-r", "3"],
        );
        let json = run.json();
        assert_eq!(run.code, Some(0), "{scenario}: {}\n{json}", run.stderr);
        assert_eq!(ok(json, scenario), 6, "{scenario}: {json}");
    }
    assert_eq!(greeter.answered("SayHello"), 18);
    assert_eq!(greeter.answered("SayHelloStream"), 6);
    assert_eq!(greeter.answered("Refuse"), 6);
    assert_eq!(greeter.answered("Slow"), 6);
    for (scenario, message) in [
        (
            "unknown_method",
            r#"method \"helloworld.Greeter/Nope\" not found in the file descriptors"#,
        ),
        (
            "unknown_field",
            "helloworld.HelloRequest: unrecognized field name 'nam'",
        ),
        (
            "not_connected",
            "helloworld.Greeter/SayHello: connect() the client first",
        ),
        (
            "too_many_schemas",
            "too many schemas: an instance holds at most 16",
        ),
    ] {
        let run = run(&script, &["--target", url, "-s", scenario, "-r", "1"]);
        let failures = run.json()["scenarios"]["by_name"][scenario]["failures"].to_string();
        assert!(failures.contains(message), "{scenario}: {failures}");
    }
}

/// A Molotov 2.7 gRPC file, as its users write it: stubs generated by
/// grpcio-tools' protoc (`*_pb2.py`, `*_pb2_grpc.py`, beside it), and
/// scenarios given a `grpc.aio` channel by `session_factory="grpc"`.
const MOLOTOV_GRPC_FILE: &str = r#"
import grpc
import molotov

import greeter_pb2
import greeter_pb2_grpc

URL = "ipv4:///127.0.0.1:{port}"


@molotov.scenario(weight=40)
async def say_hello(session, session_factory="grpc", grpc_url=URL):
    stub = greeter_pb2_grpc.GreeterStub(session)
    response = await stub.SayHello(greeter_pb2.HelloRequest(name="Alice"))
    assert response.message == "Hello, Alice!", response.message


@molotov.scenario(weight=30)
async def streamed(session, session_factory="grpc", grpc_url=URL):
    stub = greeter_pb2_grpc.GreeterStub(session)
    call = stub.SayHelloStream(greeter_pb2.HelloRequest(name="Bob"), metadata=(("x-caller", "molotov"),))
    replies = [reply.message async for reply in call]
    assert replies == ["Hello, Bob 0!", "Hello, Bob 1!", "Hello, Bob 2!"], replies
    assert await call.code() == grpc.StatusCode.OK


@molotov.scenario(weight=30)
async def refused_and_late(session, session_factory="grpc", grpc_url=URL):
    stub = greeter_pb2_grpc.GreeterStub(session)
    try:
        await stub.Refuse(greeter_pb2.HelloRequest(name="x"))
        raise AssertionError("Refuse answered")
    except grpc.aio.AioRpcError as e:
        assert e.code() == grpc.StatusCode.UNAVAILABLE and e.details() == "try again later", e
    try:
        await stub.Slow(greeter_pb2.HelloRequest(name="x"), timeout=0.2)
        raise AssertionError("Slow answered in time")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, e


@molotov.scenario(weight=0)
async def http_session(session):
    # A scenario without the factory still gets the HTTP session.
    assert hasattr(session, "get")
"#;

#[test]
fn a_molotov_grpc_file_with_generated_stubs_runs_unchanged() {
    let greeter = Greeter::start();
    let project = tempfile::tempdir().expect("temp dir");
    let protos = workspace().join("tests/guests/js/protos");
    let generated = std::process::Command::new("python3")
        .args(["-m", "grpc_tools.protoc", "-I"])
        .arg(&protos)
        .arg(format!("--python_out={}", project.path().display()))
        .arg(format!("--grpc_python_out={}", project.path().display()))
        .arg(protos.join("greeter.proto"))
        .status()
        .expect("grpcio-tools runs (tests/toolchains.sh installs it)");
    assert!(generated.success());
    let port = greeter.server.url.rsplit(':').next().expect("a port");
    let file = project.path().join("loadtest.py");
    std::fs::write(&file, MOLOTOV_GRPC_FILE.replace("{port}", port)).expect("the file");
    let run = run(&file, &["-w", "3", "-r", "10", "-x"]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    let (unary, streams) = (ok(json, "say_hello"), ok(json, "streamed"));
    let refused = ok(json, "refused_and_late");
    assert_eq!(unary + streams + refused, 30, "{json}");
    assert_eq!(greeter.answered("SayHello"), unary);
    assert_eq!(greeter.answered("SayHelloStream"), streams);
    assert_eq!(greeter.answered("Refuse"), refused);
    assert_eq!(greeter.answered("Slow"), refused);
    let errors = &json["requests"]["errors_by_kind"];
    assert_eq!(count(&errors["grpc-unavailable"]), refused, "{json}");
    assert_eq!(count(&errors["grpc-deadline-exceeded"]), refused, "{json}");
}
