"""Operations: what the streams look like, read from the broker itself (topics, offsets, consumer
groups, dead letters, deadline events), so it works for every service without touching them."""
