"""The intake domain: pure Python, no grpc / faust / protobuf / vtkit imports."""
