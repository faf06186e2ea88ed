"""intake: the regional front door of a Veilig Thuis organisation (one tenant per process)."""
