// gRPC calls to the classic greeter (helloworld.Greeter) on --target: a
// unary call and a server-streaming one. Messages are encoded with
// protobuf-go's protowire (generated types work the same, through
// proto.Marshal); the host frames, sends and measures the calls
// (GRPC /helloworld.Greeter/SayHello), their statuses as counters.
package main

import (
	"fmt"
	"strings"

	molotov "github.com/molotov-wasm/molotov/guest-sdk-go"
	"google.golang.org/protobuf/encoding/protowire"
)

// hello is a HelloRequest: its name is field 1.
func hello(name string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), name)
}

// greeting is a HelloReply's message (field 1).
func greeting(reply []byte) (string, error) {
	for len(reply) > 0 {
		number, kind, n := protowire.ConsumeTag(reply)
		if n < 0 {
			return "", protowire.ParseError(n)
		}
		reply = reply[n:]
		if number == 1 && kind == protowire.BytesType {
			text, n := protowire.ConsumeString(reply)
			if n < 0 {
				return "", protowire.ParseError(n)
			}
			return text, nil
		}
		n = protowire.ConsumeFieldValue(number, kind, reply)
		if n < 0 {
			return "", protowire.ParseError(n)
		}
		reply = reply[n:]
	}
	return "", nil
}

func init() {
	molotov.Scenario("say_hello", 70, func(s *molotov.Session) error {
		name := fmt.Sprintf("worker %d", molotov.WorkerID())
		answer, err := s.Unary("/helloworld.Greeter/SayHello", hello(name))
		if err != nil {
			return err
		}
		got, err := greeting(answer)
		if err != nil {
			return err
		}
		if got != "Hello, "+name+"!" {
			return fmt.Errorf("got %q", got)
		}
		return nil
	})

	molotov.Scenario("stream_hellos", 30, func(s *molotov.Session) error {
		call := molotov.GrpcCall{Method: "/helloworld.Greeter/SayHelloStream",
			Metadata: map[string]string{"x-caller": "molotov"}, TimeoutMs: 5000}
		reply, err := s.Grpc(call, hello("stream"))
		if err != nil {
			return err
		}
		if err := reply.OK(); err != nil {
			return err
		}
		if len(reply.Messages) != 3 {
			return fmt.Errorf("%d greetings", len(reply.Messages))
		}
		for _, message := range reply.Messages {
			got, err := greeting(message)
			if err != nil {
				return err
			}
			if !strings.HasPrefix(got, "Hello, stream") {
				return fmt.Errorf("got %q", got)
			}
		}
		return nil
	})
}

func main() {}
