// A pass-through composition function built with function-sdk-go, the
// baseline of bench/service/run.ts: it reads the request, copies the desired
// state into the response (response.To) and answers, which is the least any
// function does. Built by bench/service/build.sh; not part of the product.
package main

import (
	"context"
	"flag"

	"github.com/crossplane/function-sdk-go"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/response"
	"google.golang.org/grpc/health"
)

type passThrough struct {
	fnv1.UnimplementedFunctionRunnerServiceServer
}

func (passThrough) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	return response.To(req, response.DefaultTTL), nil
}

func main() {
	address := flag.String("address", "127.0.0.1:0", "listen address")
	maxRecv := flag.Int("max-recv-message-size", 4, "largest request in MiB")
	flag.Parse()
	if err := function.Serve(passThrough{},
		function.Listen("tcp", *address),
		function.Insecure(true),
		function.MaxRecvMessageSize(*maxRecv*1024*1024),
		// The standard health service, as ours serves it: the bench probes both alike.
		function.WithHealthServer(health.NewServer()),
	); err != nil {
		panic(err)
	}
}
