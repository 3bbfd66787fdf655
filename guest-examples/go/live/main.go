// WebSockets and server-sent events against the built-in target: an echo
// socket, a socket the server pushes to, and an event stream. The host
// reports the handshakes and stream heads as requests (WS /ws/echo,
// GET /sse) and the messages, events and gaps as metrics under their names.
// On a shared instance each worker's goroutine waits while the others run.
package main

import (
	"fmt"

	molotov "github.com/molotov-wasm/molotov/guest-sdk-go"
)

func init() {
	molotov.Scenario("echo", 40, func(s *molotov.Session) error {
		ws, err := s.WebSocket("/ws/echo")
		if err != nil {
			return err
		}
		defer ws.Close()
		for n := range 3 {
			sent := fmt.Sprintf("hello %d", n)
			if err := ws.SendText(sent); err != nil {
				return err
			}
			got, err := ws.Receive()
			if err != nil {
				return err
			}
			if got.Kind != molotov.Text || got.Text != sent {
				return fmt.Errorf("sent %q, got %+v", sent, got)
			}
		}
		return nil
	})

	molotov.Scenario("push", 30, func(s *molotov.Session) error {
		ws, err := s.WebSocket("/ws/push?rate=1000&count=5")
		if err != nil {
			return err
		}
		defer ws.Close()
		texts := 0
		for {
			got, err := ws.Receive()
			if err != nil {
				return err
			}
			if got.Kind == molotov.Close {
				break
			}
			if got.Kind == molotov.Text {
				texts++
			}
		}
		if texts != 5 {
			return fmt.Errorf("the server pushed 5 messages, %d came", texts)
		}
		return nil
	})

	molotov.Scenario("events", 30, func(s *molotov.Session) error {
		stream, err := s.Stream(molotov.Request{Method: "GET", URL: "/sse?count=4&every_ms=1"})
		if err != nil {
			return err
		}
		defer stream.Close()
		if stream.Status != 200 {
			return fmt.Errorf("status %d", stream.Status)
		}
		events := 0
		for {
			event, ok, err := stream.NextEvent()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if event.Data == "" {
				return fmt.Errorf("an event without data")
			}
			events++
		}
		if events != 4 {
			return fmt.Errorf("the server sent 4 events, %d came", events)
		}
		return nil
	})
}

func main() {}
