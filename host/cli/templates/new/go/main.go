// Load-test scenarios for molotov. Build with `molotov build .`, then run a
// test of molotov.json: `molotov run --config molotov.json smoke`.
package main

import (
	"fmt"

	molotov "github.com/molotov-wasm/molotov/guest-sdk-go"
)

func init() {
	// Once per worker, before its first run: headers for every request.
	molotov.Setup(func(workerID uint32, _ molotov.RunArgs) (*molotov.SessionOptions, error) {
		return molotov.Headers(map[string]string{"x-worker": fmt.Sprint(workerID)}), nil
	})
	// 90% of the runs: read, and check the answer.
	molotov.Scenario("read", 90, func(s *molotov.Session) error {
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
	// 10% of the runs: write.
	molotov.Scenario("write", 10, func(s *molotov.Session) error {
		res, err := s.PostJSON("/echo", map[string]int{"OK": 1})
		if err != nil {
			return err
		}
		return res.ExpectStatus(200)
	})
}

func main() {}
