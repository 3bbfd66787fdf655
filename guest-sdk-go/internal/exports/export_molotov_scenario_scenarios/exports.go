// Package export_molotov_scenario_scenarios implements the component's
// exports (the generated bindings call it) from what the SDK registered.
package export_molotov_scenario_scenarios

import (
	"fmt"

	ctx "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_context"
	http "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_http"
	wit "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_scenarios"
	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// Registry holds what the SDK registered; a nil fixture is not implemented.
type Registry struct {
	Scenarios []wit.ScenarioInfo
	// Runs are in the order of Scenarios: the host runs one by its index.
	Runs            []func(*http.Session) error
	GlobalSetup     func(ctx.RunArgs) error
	Setup           func(uint32, ctx.RunArgs) (*http.SessionOptions, error)
	SetupSession    func(uint32, *http.Session) error
	TeardownSession func(uint32, *http.Session) error
	Teardown        func(uint32) error
	GlobalTeardown  func() error
	Pick            func(uint32, uint64) string
	EventKinds      wit.EventKinds
	OnEvent         func(wit.Event)
}

// Registered is the component's registry, filled by the SDK's functions.
var Registered = Registry{}

var r = &Registered

type result = witTypes.Result[witTypes.Unit, string]

// Outcome is a run's or fixture's result as the contract returns it.
func Outcome(err error) result { return outcome(err) }

func outcome(err error) result {
	if err != nil {
		return witTypes.Err[witTypes.Unit, string](err.Error())
	}
	return witTypes.Ok[witTypes.Unit, string](witTypes.Unit{})
}

func Describe() wit.Description {
	var fixtures wit.Fixtures
	for flag, set := range map[wit.Fixtures]bool{
		wit.FixturesGlobalSetup:     r.GlobalSetup != nil,
		wit.FixturesSetup:           r.Setup != nil,
		wit.FixturesSetupSession:    r.SetupSession != nil,
		wit.FixturesTeardownSession: r.TeardownSession != nil,
		wit.FixturesTeardown:        r.Teardown != nil,
		wit.FixturesGlobalTeardown:  r.GlobalTeardown != nil,
		wit.FixturesPicker:          r.Pick != nil,
	} {
		if set {
			fixtures |= flag
		}
	}
	return wit.Description{Scenarios: r.Scenarios, Fixtures: fixtures, Events: r.EventKinds}
}

// A borrowed session must be dropped before the call returns: that ends
// the borrow (the host keeps the session).

func Run(index uint32, session *http.Session) result {
	defer Collect()
	defer session.Drop()
	return outcome(RunScenario(index, session))
}

// RunScenario runs the scenario at index on session.
func RunScenario(index uint32, session *http.Session) error {
	if int(index) >= len(r.Runs) {
		return fmt.Errorf("no scenario at index %d", index)
	}
	return r.Runs[index](session)
}

func GlobalSetup(args ctx.RunArgs) result {
	defer Collect()
	return outcome(r.GlobalSetup(args))
}

func Setup(workerID uint32, args ctx.RunArgs) witTypes.Result[witTypes.Option[http.SessionOptions], string] {
	defer Collect()
	options, err := r.Setup(workerID, args)
	if err != nil {
		return witTypes.Err[witTypes.Option[http.SessionOptions], string](err.Error())
	}
	if options == nil {
		return witTypes.Ok[witTypes.Option[http.SessionOptions], string](witTypes.None[http.SessionOptions]())
	}
	return witTypes.Ok[witTypes.Option[http.SessionOptions], string](witTypes.Some(*options))
}

func SetupSession(workerID uint32, session *http.Session) result {
	defer Collect()
	defer session.Drop()
	return outcome(r.SetupSession(workerID, session))
}

func TeardownSession(workerID uint32, session *http.Session) result {
	defer Collect()
	defer session.Drop()
	return outcome(r.TeardownSession(workerID, session))
}

func Teardown(workerID uint32) result {
	defer Collect()
	return outcome(r.Teardown(workerID))
}

func GlobalTeardown() result {
	defer Collect()
	return outcome(r.GlobalTeardown())
}

func Pick(workerID uint32, step uint64) string {
	defer Collect()
	return r.Pick(workerID, step)
}

func OnEvents(events []wit.Event) {
	defer Collect()
	for _, event := range events {
		r.OnEvent(event)
	}
}
