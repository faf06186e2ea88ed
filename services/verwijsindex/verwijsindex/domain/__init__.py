"""Pure rules of the verwijsindex (docs/domain.md section 6): no I/O, no grpc, no Kafka, no vt imports."""
