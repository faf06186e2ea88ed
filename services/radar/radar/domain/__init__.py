"""Pure domain logic of radar: no I/O, no faust, grpc, Kafka or protobuf."""
