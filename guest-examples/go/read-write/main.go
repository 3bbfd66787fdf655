// The seed's pair: 90% of reads, 10% of writes.
package main

import (
	"fmt"

	molotov "github.com/molotov-wasm/molotov/guest-sdk-go"
)

func init() {
	serverURL, _ := molotov.Env("SERVER_URL")
	api := serverURL + "/"
	molotov.Scenario("my_scenario_one", 90, func(s *molotov.Session) error {
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
	molotov.Scenario("scenario_two", 10, func(s *molotov.Session) error {
		res, err := s.PostJSON(api, map[string]int{"OK": 1})
		if err != nil {
			return err
		}
		return res.ExpectStatus(200)
	})
}

func main() {}
