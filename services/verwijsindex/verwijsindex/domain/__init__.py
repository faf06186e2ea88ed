"""Pure rules of the verwijsindex (domain.md section 6): no I/O, no grpc, no Kafka, no vt imports."""
