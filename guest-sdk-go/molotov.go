// Package molotov is the Go SDK for molotov load-test scenarios: register
// scenarios and fixtures in init, and the host runs them on its workers.
//
//	func init() {
//		molotov.Scenario("read", 90, func(s *molotov.Session) error {
//			_, err := s.Get("/")
//			return err
//		})
//	}
//
//	func main() {}
package molotov

import (
	"fmt"

	exports "github.com/molotov-wasm/molotov/guest-sdk-go/internal/exports/export_molotov_scenario_scenarios"
	ctx "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_context"
	http "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_http"
	wit "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_scenarios"
	witTypes "go.bytecodealliance.org/pkg/wit/types"

	// The component's exports: linked in by importing the SDK.
	_ "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/wit_exports"
)

// RunArgs are the run's settings, as the operator gave them.
type RunArgs = ctx.RunArgs

// SessionOptions are what a Setup fixture may set on its worker's session.
type SessionOptions = http.SessionOptions

// Event is something that happened in the run; Tag() says which kind.
type Event = wit.Event

// The event kinds, to combine for Events and to compare with Event.Tag().
const (
	SendingRequest   = wit.EventKindsSendingRequest
	ResponseReceived = wit.EventKindsResponseReceived
	CurrentWorkers   = wit.EventKindsCurrentWorkers
	ScenarioStart    = wit.EventKindsScenarioStart
	ScenarioSuccess  = wit.EventKindsScenarioSuccess
	ScenarioFailure  = wit.EventKindsScenarioFailure
)

// The tags of Event values.
const (
	EventSendingRequest   = wit.EventSendingRequest
	EventResponseReceived = wit.EventResponseReceived
	EventCurrentWorkers   = wit.EventCurrentWorkers
	EventScenarioStart    = wit.EventScenarioStart
	EventScenarioSuccess  = wit.EventScenarioSuccess
	EventScenarioFailure  = wit.EventScenarioFailure
)

var registry = &exports.Registered

// Scenario registers a scenario picked with the given relative weight; a
// returned error (or a panic) fails the run with its message.
func Scenario(name string, weight uint32, run func(*Session) error) {
	ScenarioWithDelay(name, weight, 0, run)
}

// ScenarioWithDelay is Scenario with a pause of delayMs after each run.
func ScenarioWithDelay(name string, weight, delayMs uint32, run func(*Session) error) {
	registry.Scenarios = append(registry.Scenarios, wit.ScenarioInfo{Name: name, Weight: weight, DelayMs: delayMs})
	registry.Runs = append(registry.Runs, func(s *http.Session) error { return guard(func() error { return run(&Session{s}) }) })
}

// Headers are session options that set default headers, for Setup.
func Headers(headers map[string]string) *SessionOptions {
	return &SessionOptions{Headers: wireHeaders(headers), TimeoutMs: witTypes.None[uint32](),
		MaxRedirects: witTypes.None[uint8]()}
}

// GlobalSetup runs once before any worker starts; an error aborts the run.
func GlobalSetup(fixture func(RunArgs) error) {
	registry.GlobalSetup = func(args RunArgs) error { return guard(func() error { return fixture(args) }) }
}

// Setup runs once per worker before its first run, and may return options
// for the worker's session (nil for none).
func Setup(fixture func(workerID uint32, args RunArgs) (*SessionOptions, error)) {
	registry.Setup = fixture
}

// SetupSession runs after the worker's session is created.
func SetupSession(fixture func(workerID uint32, s *Session) error) {
	registry.SetupSession = func(id uint32, s *http.Session) error { return fixture(id, &Session{s}) }
}

// TeardownSession runs before the worker's session is closed.
func TeardownSession(fixture func(workerID uint32, s *Session) error) {
	registry.TeardownSession = func(id uint32, s *http.Session) error { return fixture(id, &Session{s}) }
}

// Teardown runs once per worker after its last run.
func Teardown(fixture func(workerID uint32) error) { registry.Teardown = fixture }

// GlobalTeardown runs once after every worker has stopped.
func GlobalTeardown(fixture func() error) { registry.GlobalTeardown = fixture }

// Picker replaces weighted picking: it names the scenario for a worker's step.
func Picker(pick func(workerID uint32, step uint64) string) { registry.Pick = pick }

// Events subscribes hook to the given kinds (SendingRequest|ResponseReceived…).
func Events(kinds uint8, hook func(Event)) {
	registry.EventKinds = kinds
	registry.OnEvent = hook
}

// guard turns a panic into an error, so a failed check fails the run
// instead of trapping the instance.
func guard(run func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return run()
}
