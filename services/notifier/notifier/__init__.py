"""notifier: turns decisions into deliveries (callbacks, letters, match notices) that are never sent twice."""
