"""Real-time serving: the deploy-time smoke test and live traffic's way into the drift loop."""
