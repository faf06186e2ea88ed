"""Shared hand-written code of the Veilig Thuis exchange suite."""
