package molotov

import (
	"fmt"

	driver "github.com/molotov-wasm/molotov/guest-sdk-go/internal/exports/export_molotov_scenario_driver"
	http "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_http"
	mxio "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_multiplex_io"
	streaming "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_streaming"
	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// SSEEvent is a server-sent event, parsed by the host.
type SSEEvent struct {
	// Type is the event's type ("message" by default).
	Type string
	Data string
	ID   string
}

// Stream is a response whose head has arrived; its body is read as it
// comes, by chunks or by events (not both). Close it when done.
type Stream struct {
	host   *streaming.BodyStream
	url    string
	Status uint16
}

// Stream sends req and returns once the response's head has arrived (no
// redirect is followed). On a shared instance the worker's goroutine waits
// while the others run.
func (s *Session) Stream(req Request) (*Stream, error) {
	wire := wireRequest(req)
	outcome := driver.Io(func() uint32 { return mxio.StartOpen(s.host, wire) },
		func() mxio.Outcome { return mxio.MakeOutcomeOpened(streaming.Open(s.host, wire)) })
	opened := outcome.Opened()
	if opened.IsErr() {
		return nil, fmt.Errorf("%s: %w", req.URL, httpError(opened.Err()))
	}
	host := opened.Ok()
	return &Stream{host: host, url: req.URL, Status: host.Status()}, nil
}

// Header is the first value of header name (case-insensitive).
func (s *Stream) Header(name string) (string, bool) {
	value := s.host.Header(name)
	return value.Some(), value.IsSome()
}

// NextChunk is the body's next bytes as they came; ok is false at its end.
func (s *Stream) NextChunk() (chunk []byte, ok bool, err error) {
	none := witTypes.None[uint32]()
	outcome := driver.Io(func() uint32 { return mxio.StartReadChunk(s.host, none) },
		func() mxio.Outcome { return mxio.MakeOutcomeChunk(s.host.ReadChunk(none)) })
	read := outcome.Chunk()
	if read.IsErr() {
		return nil, false, fmt.Errorf("%s: %w", s.url, httpError(read.Err()))
	}
	return read.Ok().Some(), read.Ok().IsSome(), nil
}

// NextEvent is the next server-sent event; ok is false at the body's end.
func (s *Stream) NextEvent() (event SSEEvent, ok bool, err error) {
	none := witTypes.None[uint32]()
	outcome := driver.Io(func() uint32 { return mxio.StartReadEvent(s.host, none) },
		func() mxio.Outcome { return mxio.MakeOutcomeEvent(s.host.ReadEvent(none)) })
	read := outcome.Event()
	if read.IsErr() {
		return SSEEvent{}, false, fmt.Errorf("%s: %w", s.url, httpError(read.Err()))
	}
	if read.Ok().IsNone() {
		return SSEEvent{}, false, nil
	}
	got := read.Ok().Some()
	event = SSEEvent{Type: "message", Data: got.Data, ID: got.Id.Some()}
	if got.Event.IsSome() {
		event.Type = got.Event.Some()
	}
	return event, true, nil
}

// Close releases the stream and its connection.
func (s *Stream) Close() { s.host.Drop() }

// wireRequest is req as the contract takes it.
func wireRequest(req Request) http.Request {
	wire := http.Request{Method: req.Method, Url: req.URL, Body: witTypes.None[[]uint8](),
		TimeoutMs: witTypes.None[uint32](), Name: witTypes.None[string](),
		MaxRedirects: witTypes.None[uint8]()}
	wire.Headers = wireHeaders(req.Headers)
	if req.Body != nil {
		wire.Body = witTypes.Some(req.Body)
	}
	if req.TimeoutMs != 0 {
		wire.TimeoutMs = witTypes.Some(req.TimeoutMs)
	}
	if req.Name != "" {
		wire.Name = witTypes.Some(req.Name)
	}
	if req.NoRedirects {
		wire.MaxRedirects = witTypes.Some[uint8](0)
	}
	return wire
}
