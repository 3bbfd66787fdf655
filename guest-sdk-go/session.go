package molotov

import (
	"encoding/json"
	"fmt"
	"strings"

	driver "github.com/molotov-wasm/molotov/guest-sdk-go/internal/exports/export_molotov_scenario_driver"
	http "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_http"
	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// Session is a worker's HTTP session, held by the host: default headers,
// cookies and timeout persist across the worker's runs. The host performs
// and measures every request.
type Session struct{ host *http.Session }

// Request is one request to send; Url may be relative to --target.
type Request struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    []byte
	// TimeoutMs overrides the session's timeout when non-zero.
	TimeoutMs uint32
	// Name is the name the request is reported under (default: METHOD /path).
	Name string
	// NoRedirects returns a redirect as the response instead of following it.
	NoRedirects bool
}

// Response is a complete response.
type Response struct {
	Status    uint16
	Headers   [][2]string
	Body      []byte
	URL       string
	ElapsedUs uint64
}

// Get sends a GET request.
func (s *Session) Get(url string) (*Response, error) {
	return s.Send(Request{Method: "GET", URL: url})
}

// Post sends a POST request with body.
func (s *Session) Post(url string, body []byte) (*Response, error) {
	return s.Send(Request{Method: "POST", URL: url, Body: body})
}

// PostJSON sends value as a JSON body.
func (s *Session) PostJSON(url string, value any) (*Response, error) {
	body, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	return s.Send(Request{Method: "POST", URL: url, Body: body,
		Headers: map[string]string{"content-type": "application/json"}})
}

// Put sends a PUT request with body.
func (s *Session) Put(url string, body []byte) (*Response, error) {
	return s.Send(Request{Method: "PUT", URL: url, Body: body})
}

// Delete sends a DELETE request.
func (s *Session) Delete(url string) (*Response, error) {
	return s.Send(Request{Method: "DELETE", URL: url})
}

// Send sends a request and waits for the whole response; only this worker waits.
func (s *Session) Send(req Request) (*Response, error) {
	wire := wireRequest(req)
	outcome := driver.Send(s.host, wire)
	if outcome.IsErr() {
		return nil, httpError(outcome.Err())
	}
	// Copied out at once, so the host's handle is released now, not by a GC.
	reply := outcome.Ok()
	handle := reply.Response
	defer handle.Drop()
	// A small body comes with the reply; a larger one is fetched.
	body := handle.Body
	if reply.Body.IsSome() {
		body = reply.Body.Some
	}
	response := &Response{Status: reply.Status, Body: body(), URL: handle.Url(), ElapsedUs: handle.ElapsedUs(),
		Headers: headerPairs(handle.Headers())}
	return response, nil
}

// wireHeaders are headers as the contract takes them.
func wireHeaders(headers map[string]string) []witTypes.Tuple2[string, string] {
	var wire []witTypes.Tuple2[string, string]
	for name, value := range headers {
		wire = append(wire, witTypes.Tuple2[string, string]{F0: name, F1: value})
	}
	return wire
}

// headerPairs are headers as the contract gives them, as pairs.
func headerPairs(wire []witTypes.Tuple2[string, string]) [][2]string {
	var pairs [][2]string
	for _, header := range wire {
		pairs = append(pairs, [2]string{header.F0, header.F1})
	}
	return pairs
}

// SetHeader sets (or with an empty value removes) a default header; an
// invalid one, or one the client writes itself (content-length, …), is an error.
func (s *Session) SetHeader(name, value string) error {
	if outcome := s.host.SetHeader(name, value); outcome.IsErr() {
		return fmt.Errorf("set header %q: %w", name, httpError(outcome.Err()))
	}
	return nil
}

// Cookies are the cookies the session would send to url.
func (s *Session) Cookies(url string) map[string]string {
	cookies := map[string]string{}
	for _, pair := range s.host.Cookies(url) {
		cookies[pair.F0] = pair.F1
	}
	return cookies
}

// Header is the first value of header name (case-insensitive).
func (r *Response) Header(name string) (string, bool) {
	for _, header := range r.Headers {
		if strings.EqualFold(header[0], name) {
			return header[1], true
		}
	}
	return "", false
}

// Text is the body as a string.
func (r *Response) Text() string { return string(r.Body) }

// JSON decodes the body into value.
func (r *Response) JSON(value any) error {
	if err := json.Unmarshal(r.Body, value); err != nil {
		return fmt.Errorf("response from %s is not the JSON expected: %w", r.URL, err)
	}
	return nil
}

// ExpectStatus fails unless the status is expected.
func (r *Response) ExpectStatus(expected uint16) error {
	if r.Status != expected {
		return fmt.Errorf("expected status %d from %s, got %d", expected, r.URL, r.Status)
	}
	return nil
}

func httpError(e http.HttpError) error {
	kinds := []string{"invalid url", "host not allowed", "invalid request", "connect", "timeout", "too many redirects", "protocol", "body too large"}
	switch e.Tag() {
	case http.HttpErrorInvalidUrl:
		return fmt.Errorf("invalid url: %s", e.InvalidUrl())
	case http.HttpErrorHostNotAllowed:
		return fmt.Errorf("host not allowed: %s", e.HostNotAllowed())
	case http.HttpErrorInvalidRequest:
		return fmt.Errorf("invalid request: %s", e.InvalidRequest())
	case http.HttpErrorConnect:
		return fmt.Errorf("connect: %s", e.Connect())
	case http.HttpErrorProtocol:
		return fmt.Errorf("protocol: %s", e.Protocol())
	case http.HttpErrorBodyTooLarge:
		return fmt.Errorf("body too large: over %d bytes", e.BodyTooLarge())
	}
	return fmt.Errorf("%s", kinds[e.Tag()])
}
