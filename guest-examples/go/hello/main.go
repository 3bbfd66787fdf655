// The seed's hello world: one scenario that reads / and checks the answer.
package main

import (
	"fmt"

	molotov "github.com/molotov-wasm/molotov/guest-sdk-go"
)

func init() {
	// SERVER_URL (from --env) wins, Molotov-style; otherwise the relative
	// path resolves against --target.
	serverURL, _ := molotov.Env("SERVER_URL")
	api := serverURL + "/"
	molotov.Scenario("my_scenario_one", 1, func(s *molotov.Session) error {
		res, err := s.Get(api)
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
}

func main() {}
