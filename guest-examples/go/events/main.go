// The seed's hello world with Molotov's fixtures and an event hook: the hook
// counts every event kind, and Teardown reports the counts as custom metrics
// (events.* in the summary and the JSON). The global setup shares a variable
// that every run checks; Teardown also reports the worker's steps.
package main

import (
	"fmt"
	"strconv"

	molotov "github.com/molotov-wasm/molotov/guest-sdk-go"
)

var names = map[uint8]string{
	molotov.EventSendingRequest:   "sending-request",
	molotov.EventResponseReceived: "response-received",
	molotov.EventScenarioStart:    "scenario-start",
	molotov.EventScenarioSuccess:  "scenario-success",
	molotov.EventScenarioFailure:  "scenario-failure",
}

var seen = map[string]int64{}

func init() {
	molotov.GlobalSetup(func(args molotov.RunArgs) error {
		molotov.Print(fmt.Sprintf("starting %d workers", args.Workers))
		molotov.SetVar("run", "started")
		return nil
	})
	// Each worker's requests carry its id.
	molotov.Setup(func(workerID uint32, _ molotov.RunArgs) (*molotov.SessionOptions, error) {
		return molotov.Headers(map[string]string{"x-worker": strconv.FormatUint(uint64(workerID), 10)}), nil
	})
	molotov.Events(molotov.SendingRequest|molotov.ResponseReceived|molotov.ScenarioStart|
		molotov.ScenarioSuccess|molotov.ScenarioFailure, func(event molotov.Event) {
		seen[names[event.Tag()]]++
	})
	molotov.Scenario("hello", 1, func(s *molotov.Session) error {
		if run, _ := molotov.GetVar("run"); run != "started" {
			return fmt.Errorf("the shared variable is missing")
		}
		res, err := s.Get("/")
		if err != nil {
			return err
		}
		if err := res.ExpectStatus(200); err != nil {
			return err
		}
		var body struct{ Result string }
		if err := res.JSON(&body); err != nil {
			return err
		}
		if body.Result != "OK" {
			return fmt.Errorf("unexpected body: %s", res.Text())
		}
		return nil
	})
	molotov.Teardown(func(uint32) error {
		for _, name := range names {
			molotov.Incr("events."+name, seen[name])
		}
		molotov.Incr("steps", int64(molotov.Step()))
		return nil
	})
}

func main() {}
