module grpc

go 1.25

require (
	github.com/molotov-wasm/molotov/guest-sdk-go v0.1.0
	google.golang.org/protobuf v1.36.12
)

require go.bytecodealliance.org/pkg v0.2.3 // indirect

replace github.com/molotov-wasm/molotov/guest-sdk-go => ../../../guest-sdk-go
