"""Adapters between the outside world (protobuf, gRPC) and the intake domain."""
