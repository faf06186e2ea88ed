"""Adapters: translation between the outside world (protobuf, gRPC, Kafka, SQLite) and the domain."""
