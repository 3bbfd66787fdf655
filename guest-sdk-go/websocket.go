package molotov

import (
	"fmt"

	driver "github.com/molotov-wasm/molotov/guest-sdk-go/internal/exports/export_molotov_scenario_driver"
	mxio "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_multiplex_io"
	ws "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_websocket"
	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// Connect is a WebSocket to open: a ws://, wss:// or relative URL, and what
// the handshake carries.
type Connect struct {
	URL       string
	Headers   map[string]string
	Protocols []string
	// TimeoutMs bounds the handshake, each send and a receive by default.
	TimeoutMs uint32
	// Name is the name the socket is reported under (default: WS /path).
	Name string
}

// MessageKind says what a Message carries.
type MessageKind int

const (
	Text MessageKind = iota
	Binary
	Pong
	// Close is the server's close: Code (1005 when it gave none) and Reason.
	Close
)

// Message is what WebSocket.Receive returns; the host answers pings itself.
type Message struct {
	Kind   MessageKind
	Text   string
	Data   []byte
	Code   uint16
	Reason string
}

// WebSocket is an open socket, held by the host, which bounds and measures it.
// Close it when done: dropped at the end of the run, it closes without a handshake.
type WebSocket struct {
	host *ws.Socket
	url  string
}

// WebSocket opens a WebSocket to url with the session's headers and cookies.
func (s *Session) WebSocket(url string) (*WebSocket, error) {
	return s.Connect(Connect{URL: url})
}

// Connect opens a WebSocket as c says. On a shared instance the worker's
// goroutine waits while the others run.
func (s *Session) Connect(c Connect) (*WebSocket, error) {
	req := ws.ConnectRequest{Url: c.URL, Headers: wireHeaders(c.Headers), Protocols: c.Protocols,
		TimeoutMs: witTypes.None[uint32](), Name: witTypes.None[string]()}
	if c.TimeoutMs != 0 {
		req.TimeoutMs = witTypes.Some(c.TimeoutMs)
	}
	if c.Name != "" {
		req.Name = witTypes.Some(c.Name)
	}
	outcome := driver.Io(func() uint32 { return mxio.StartConnect(s.host, req) },
		func() mxio.Outcome { return mxio.MakeOutcomeConnected(ws.Connect(s.host, req)) })
	opened := outcome.Connected()
	if opened.IsErr() {
		return nil, wsError(c.URL, opened.Err())
	}
	return &WebSocket{host: opened.Ok(), url: c.URL}, nil
}

// Protocol is the subprotocol the server chose, if any.
func (w *WebSocket) Protocol() string {
	if p := w.host.Protocol(); p.IsSome() {
		return p.Some()
	}
	return ""
}

// SendText sends a text message.
func (w *WebSocket) SendText(text string) error {
	_, err := w.call(mxio.MakeSocketOpSendText(text), func() witTypes.Result[mxio.SocketDone, ws.WsError] {
		return sent(w.host.SendText(text))
	})
	return err
}

// SendBinary sends a binary message.
func (w *WebSocket) SendBinary(data []byte) error {
	_, err := w.call(mxio.MakeSocketOpSendBinary(data), func() witTypes.Result[mxio.SocketDone, ws.WsError] {
		return sent(w.host.SendBinary(data))
	})
	return err
}

// Receive waits for the next message, within the socket's timeout.
func (w *WebSocket) Receive() (Message, error) {
	none := witTypes.None[uint32]()
	done, err := w.call(mxio.MakeSocketOpReceive(none), func() witTypes.Result[mxio.SocketDone, ws.WsError] {
		received := w.host.Receive(none)
		if received.IsErr() {
			return witTypes.Err[mxio.SocketDone, ws.WsError](received.Err())
		}
		return witTypes.Ok[mxio.SocketDone, ws.WsError](mxio.MakeSocketDoneReceived(received.Ok()))
	})
	if err != nil {
		return Message{}, err
	}
	return message(done.Received()), nil
}

// Close closes normally (1000) and waits for the server's close.
func (w *WebSocket) Close() error {
	frame := ws.CloseFrame{Code: 1000}
	_, err := w.call(mxio.MakeSocketOpClose(frame), func() witTypes.Result[mxio.SocketDone, ws.WsError] {
		closed := w.host.Close(frame.Code, frame.Reason)
		if closed.IsErr() {
			return witTypes.Err[mxio.SocketDone, ws.WsError](closed.Err())
		}
		return witTypes.Ok[mxio.SocketDone, ws.WsError](mxio.MakeSocketDoneClosed(closed.Ok()))
	})
	w.host.Drop()
	return err
}

func (w *WebSocket) call(op mxio.SocketOp, inPlace func() witTypes.Result[mxio.SocketDone, ws.WsError]) (mxio.SocketDone, error) {
	outcome := driver.Io(func() uint32 { return mxio.StartSocket(w.host, op) },
		func() mxio.Outcome { return mxio.MakeOutcomeSocket(inPlace()) })
	done := outcome.Socket()
	if done.IsErr() {
		return mxio.SocketDone{}, wsError(w.url, done.Err())
	}
	return done.Ok(), nil
}

func sent(result witTypes.Result[witTypes.Unit, ws.WsError]) witTypes.Result[mxio.SocketDone, ws.WsError] {
	if result.IsErr() {
		return witTypes.Err[mxio.SocketDone, ws.WsError](result.Err())
	}
	return witTypes.Ok[mxio.SocketDone, ws.WsError](mxio.MakeSocketDoneSent())
}

func message(m ws.Message) Message {
	switch m.Tag() {
	case ws.MessageText:
		return Message{Kind: Text, Text: m.Text()}
	case ws.MessageBinary:
		return Message{Kind: Binary, Data: m.Binary()}
	case ws.MessagePong:
		return Message{Kind: Pong, Data: m.Pong()}
	}
	close := Message{Kind: Close, Code: 1005}
	if frame := m.Close(); frame.IsSome() {
		close.Code, close.Reason = frame.Some().Code, frame.Some().Reason
	}
	return close
}

func wsError(url string, e ws.WsError) error {
	switch e.Tag() {
	case ws.WsErrorHttp:
		return fmt.Errorf("%s: %w", url, httpError(e.Http()))
	case ws.WsErrorTimeout:
		return fmt.Errorf("%s: timed out", url)
	case ws.WsErrorTooManyOpen:
		return fmt.Errorf("%s: the worker already holds %d open sockets and streams (--max-open)", url, e.TooManyOpen())
	case ws.WsErrorMessageTooLarge:
		return fmt.Errorf("%s: message over the limit of %d bytes", url, e.MessageTooLarge())
	case ws.WsErrorFrameRate:
		return fmt.Errorf("%s: the server sent over %d frames in a second", url, e.FrameRate())
	case ws.WsErrorInvalidRequest:
		return fmt.Errorf("%s: invalid request: %s", url, e.InvalidRequest())
	}
	return fmt.Errorf("%s: websocket: %s", url, e.Protocol())
}
