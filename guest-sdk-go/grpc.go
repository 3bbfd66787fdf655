package molotov

import (
	"fmt"

	driver "github.com/molotov-wasm/molotov/guest-sdk-go/internal/exports/export_molotov_scenario_driver"
	grpc "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_grpc"
	mxgrpc "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_multiplex_grpc"
	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// GrpcCall is a gRPC call to make. Messages are encoded protobuf bytes
// (google.golang.org/protobuf's proto.Marshal, or protowire): the host
// frames and sends them, applies the deadline, reads the status and
// reports the call (GRPC /package.Service/Method).
type GrpcCall struct {
	// Method is /package.Service/Method.
	Method string
	// Target is the server (http://host:port, https://…); empty: --target.
	Target string
	// Metadata is sent after the session's headers.
	Metadata map[string]string
	// TimeoutMs is the deadline; 0: the session's timeout.
	TimeoutMs uint32
	// Name is what the call is reported under; empty: GRPC Method.
	Name string
}

// GrpcReply is what a call came to, whatever its status.
type GrpcReply struct {
	// Status is the grpc-status: 0 is OK, 4 (DEADLINE_EXCEEDED) when the
	// deadline passed first.
	Status   uint8
	Message  string
	Headers  [][2]string
	Trailers [][2]string
	// Messages are the answer's messages, encoded, in order.
	Messages [][]byte
	method   string
}

// OK is nil for an OK status, else an error naming it.
func (r *GrpcReply) OK() error {
	if r.Status == 0 {
		return nil
	}
	return fmt.Errorf("%s: gRPC status %d (%s): %s", r.method, r.Status, StatusName(r.Status), r.Message)
}

// StatusName is the canonical name of gRPC status code (UNAVAILABLE).
func StatusName(code uint8) string {
	names := []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
		"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
	if int(code) < len(names) {
		return names[code]
	}
	return "UNKNOWN"
}

// Grpc sends requests (one for a unary or server-streaming call) and
// reads the answer to its end, whatever its status (GrpcReply.OK makes a
// non-OK one an error). On a shared instance the worker's goroutine waits
// while the others run.
func (s *Session) Grpc(call GrpcCall, requests ...[]byte) (*GrpcReply, error) {
	wire := grpc.Call{Target: call.Target, Method: call.Method, Metadata: wireHeaders(call.Metadata),
		TimeoutMs: witTypes.None[uint32](), Name: witTypes.None[string]()}
	if call.TimeoutMs > 0 {
		wire.TimeoutMs = witTypes.Some(call.TimeoutMs)
	}
	if call.Name != "" {
		wire.Name = witTypes.Some(call.Name)
	}
	outcome := driver.Grpc(func() uint32 { return mxgrpc.StartInvoke(s.host, wire, requests) },
		func() driver.GrpcOutcome { return grpc.Invoke(s.host, wire, requests) })
	if outcome.IsErr() {
		return nil, fmt.Errorf("%s: %w", call.Method, httpError(outcome.Err()))
	}
	got := outcome.Ok()
	return &GrpcReply{Status: got.Status, Message: got.Message, Headers: headerPairs(got.Headers),
		Trailers: headerPairs(got.Trailers), Messages: got.Messages, method: call.Method}, nil
}

// Unary calls method on --target with request: the answer's one message;
// a non-OK status is an error.
func (s *Session) Unary(method string, request []byte) ([]byte, error) {
	reply, err := s.Grpc(GrpcCall{Method: method}, request)
	if err != nil {
		return nil, err
	}
	if err := reply.OK(); err != nil {
		return nil, err
	}
	if len(reply.Messages) != 1 {
		return nil, fmt.Errorf("%s: %d messages where a unary call answers one", method, len(reply.Messages))
	}
	return reply.Messages[0], nil
}
