"""Re-planning during the day: a batch of events read against the stored plan, and the next
version that moves as little as possible."""
