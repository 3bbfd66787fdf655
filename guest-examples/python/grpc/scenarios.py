"""gRPC calls to the classic greeter (helloworld.Greeter) on --target: a
unary call and a server-streaming one. Messages are protobuf bytes: here a
few lines encode the one string field of HelloRequest and HelloReply. The
host frames, sends and measures the calls (GRPC /helloworld.Greeter/SayHello)."""

from molotov import get_context, scenario


def with_name(value: str) -> bytes:
    """A message whose field 1 is the string ``value`` (shorter than 128 bytes)."""
    raw = value.encode()
    return bytes([0x0A, len(raw)]) + raw


def name_of(message: bytes) -> str:
    return message[2:2 + message[1]].decode()


@scenario(weight=70)
async def say_hello(session):
    name = f"worker {get_context(session).worker_id}"
    answer = await session.unary("/helloworld.Greeter/SayHello", with_name(name))
    assert name_of(answer) == f"Hello, {name}!", name_of(answer)


@scenario(weight=30)
async def stream_hellos(session):
    reply = await session.grpc("/helloworld.Greeter/SayHelloStream", with_name("stream"),
                               metadata={"x-caller": "molotov"}, timeout=5)
    reply.ok()
    assert len(reply.messages) == 3, f"{len(reply.messages)} greetings"
    for message in reply.messages:
        assert name_of(message).startswith("Hello, stream"), name_of(message)
